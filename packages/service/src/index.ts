export type { Catalog, Cause, DecodedEvent, EventContext, Handler, InboundRecord, Outbox, Queryable } from '@junction/events';
export { type BackoffOptions, backoffDelay, maskEventPii, PII_MASK, uuidv7 } from '@junction/events';
export { type HttpClient, type HttpClientOptions, IDEMPOTENCY_KEY, idempotencyKeyOf, type OutboundResponse, SAFE_ID } from '@junction/http';
export {
  type Circuit,
  type CircuitPass,
  type ConfirmedOrder,
  createCircuit,
  type FieldProblem,
  JunctionError,
  type Logger,
  type OrderCancelReason,
  type OrderKpis,
  orderKpis,
  type WebhookAttemptOutcome,
  type WebhookMetrics,
  type WebhookSnapshot,
  webhookMetrics,
} from '@junction/observability';
export type { NextFunction, Request, Response, Router } from 'express';
export {
  type ApiHeader,
  type ApiMethod,
  type ApiOperation,
  type ApiResponse,
  checkApi,
  idempotencyKeyHeader,
  mountedRoutes,
  openApiOf,
  type ServiceApi,
} from './api.ts';
export { envPrefix, readServiceConfig, type ServiceConfig } from './config.ts';
export { type Migration, migrateService, openServiceDatabase, readMigrations, splitStatements } from './database.ts';
export { causeOf } from './events.ts';
export {
  CALLER_HEADER,
  callerOf,
  createServiceApp,
  parseInput,
  requireCaller,
  SCOPES_HEADER,
  type ServiceAppParts,
  scopesOf,
} from './http.ts';
export { runService } from './run.ts';
export {
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type StartServiceOptions,
  type Subscription,
  startService,
  type Worker,
} from './service.ts';
