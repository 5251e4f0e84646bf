export { type BearerAuthOptions, bearerAuth, tokenScopes, unauthenticated } from './auth/bearer.ts';
export type { AuthContext } from './auth/context.ts';
export { CALLER_HEADER, SCOPES_HEADER } from './auth/forwarded.ts';
export { checkScope, forbidden, requireScope } from './auth/scope.ts';
export { type CheckResult, type HealthOptions, healthRoutes, type ReadinessCheck } from './health.ts';
export { allowHeader, methodNotAllowed, refuseOtherMethods } from './methods.ts';
export { httpMetrics, metricsHandler, routeLabel, UNMATCHED_ROUTE } from './metrics.ts';
export { createHttpClient, type HttpClient, type OutboundRequest } from './outbound/client.ts';
export {
  type BreakerOptions,
  breakerSchema,
  type CallOptions,
  DEFAULT_UPSTREAM,
  type HttpClientOptions,
  type UpstreamOptions,
} from './outbound/options.ts';
export { isIdempotent } from './outbound/policy.ts';
export type { OutboundResponse } from './outbound/response.ts';
export {
  fromHttpError,
  notFound,
  PROBLEM_SCHEMA,
  type Problem,
  type ProblemField,
  type ProblemHandlerOptions,
  problemHandler,
  toProblem,
} from './problem.ts';
export type { BucketPolicy, Verdict } from './rate-limit/bucket.ts';
export { type MemoryRateLimitStoreOptions, memoryRateLimitStore } from './rate-limit/memory.ts';
export { type RateLimitOptions, rateLimit } from './rate-limit/middleware.ts';
export { type RedisRateLimitStoreOptions, redisRateLimitStore } from './rate-limit/redis.ts';
export type { RateLimitStore } from './rate-limit/store.ts';
export { type RedisClientOptions, redisClient } from './redis.ts';
export { IDEMPOTENCY_KEY, idempotencyKeyOf, REQUEST_ID_HEADER, requestId, SAFE_ID } from './request-id.ts';
export { type JsonBodyOptions, jsonBody, securityHeaders } from './security.ts';
export { onShutdownSignal, type RunningServer, type ServeOptions, serveHttp } from './serve.ts';
