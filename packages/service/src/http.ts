import {
  CALLER_HEADER,
  healthRoutes,
  httpMetrics,
  jsonBody,
  metricsHandler,
  notFound,
  problemHandler,
  type ReadinessCheck,
  refuseOtherMethods,
  requestId,
  SCOPES_HEADER,
  securityHeaders,
} from '@junction/http';
import { JunctionError, type Logger, type Metrics } from '@junction/observability';
import express, { type Express, type Request, type RequestHandler, type Router } from 'express';
import type { z } from 'zod';
import { checkApi, mountedRoutes, openApiOf, refuseUndeclaredMethods, type ServiceApi } from './api.ts';

export { CALLER_HEADER, SCOPES_HEADER };

/** The caller the gateway vouched for, or undefined for a request that did not come through it. */
export function callerOf(req: Request): string | undefined {
  const value = req.headers[CALLER_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The scopes of the token the gateway verified for this request (none for a request that did not come through it). */
export function scopesOf(req: Request): ReadonlySet<string> {
  const value = req.headers[SCOPES_HEADER];
  return new Set(typeof value === 'string' ? value.split(' ').filter(Boolean) : []);
}

/** Refuses (401) a request that names no caller: one that did not come through the gateway. */
export function requireCaller(): RequestHandler {
  return (req, _res, next) => {
    if (callerOf(req)) return next();
    next(new JunctionError('auth.unauthenticated', `no caller: ${CALLER_HEADER} is set by the gateway, which this request did not pass`));
  };
}

/**
 * A request's body (or query) of the right shape, or a 400 problem naming every field that is not
 * (`(query).limit`, `lines.0.quantity`; the whole value when it is not an object at all). No body
 * at all reads as `{}`; a JSON `null` does not.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' = 'body'): T {
  const parsed = schema.safeParse(value === undefined ? {} : value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { path: path === '' ? `(${where})` : where === 'query' ? `(query).${path}` : path, reason: issue.message };
  });
  throw new JunctionError('request.invalid', `the ${where} is not valid: ${fields.map((f) => `${f.path}: ${f.reason}`).join('; ')}`, {
    context: { fields },
  });
}

/** What a service's HTTP app is made of. */
export interface ServiceAppParts {
  /** The service's name, for its OpenAPI document and errors. */
  name: string;
  /** Its routes described; served at `GET /openapi.json` once checked against the routes mounted. */
  api?: ServiceApi;
  /** Mounts the service's own routes. */
  routes: (router: Router) => void;
  readiness: Record<string, ReadinessCheck>;
  metrics: Metrics;
  logger: Logger;
  /** Whether the server still takes new work (false once shutdown began). */
  accepting: () => boolean;
  /** Largest JSON body, in bytes. Default 256 KiB. */
  maxBodyBytes?: number;
}

/**
 * A service's app: request metrics and ids, security headers, `/metrics`, `/healthz`,
 * `/readyz`, `/openapi.json` (when the service describes its API, checked against its routes),
 * JSON bodies, the service's routes, a 405 with `Allow` for a method a path does not declare,
 * and problem+json for every error and unknown path.
 */
export function createServiceApp(parts: ServiceAppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(httpMetrics());
  app.use(requestId());
  app.use(securityHeaders());
  app.get('/metrics', metricsHandler(parts.metrics));
  refuseOtherMethods(app, '/metrics', ['GET']);
  app.use(healthRoutes({ checks: parts.readiness, accepting: parts.accepting, logger: parts.logger }));
  const router = express.Router();
  router.use(jsonBody({ limitBytes: parts.maxBodyBytes ?? 256 * 1024 }));
  parts.routes(router);
  const routes = mountedRoutes(router);
  if (parts.api) {
    checkApi(parts.name, parts.api, routes);
    const document = openApiOf(parts.name, parts.api);
    app.get('/openapi.json', (_req, res) => {
      res.json(document);
    });
    refuseOtherMethods(app, '/openapi.json', ['GET']);
  }
  refuseUndeclaredMethods(router, routes);
  app.use(router);
  app.use(notFound());
  app.use(problemHandler({ logger: parts.logger }));
  return app;
}
