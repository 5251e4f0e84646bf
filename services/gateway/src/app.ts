import type { Catalog, EventContract, Publisher } from '@junction/events';
import {
  type BearerAuthOptions,
  type BucketPolicy,
  bearerAuth,
  healthRoutes,
  httpMetrics,
  memoryRateLimitStore,
  methodNotAllowed,
  metricsHandler,
  notFound,
  problemHandler,
  type RateLimitStore,
  type ReadinessCheck,
  rateLimit,
  refuseOtherMethods,
  requestId,
  requireScope,
  routeLabel,
  securityHeaders,
} from '@junction/http';
import type { Metrics } from '@junction/observability';
import express, { type Express, type RequestHandler } from 'express';
import { publishableEvents } from './events/catalog.ts';
import { eventRoutes } from './events/route.ts';
import type { IdempotencyStore } from './idempotency/store.ts';
import { openApiDocument } from './openapi/document.ts';
import { declaredMethods, type ProxyDescription } from './openapi/services.ts';
import { upstreamDescriptions } from './openapi/upstream.ts';

/** A route of the route table, ready to mount: where, the scope of each method, and the forwarding handler. */
export interface MountedProxy {
  prefix: string;
  /** The backend's name, for the OpenAPI document. */
  name: string;
  /** Method → the scope it needs; a method not listed is a 405. The prefix is under `/v1`, behind its token check. */
  scopes: Readonly<Record<string, string>>;
  handler: RequestHandler;
  /**
   * Where the backend describes its API (`<upstream>/openapi.json`, as the service kit serves it)
   * and the gateway path of each of its paths; without it the route is one generic entry.
   */
  api?: { url: string; gatewayPath(servicePath: string): string | undefined };
}

/** Everything the gateway's app is made of; `main.ts` builds it from the environment, tests from their own. */
export interface GatewayParts {
  catalog: Catalog;
  publisher: Publisher;
  auth: BearerAuthOptions;
  rateLimit: { store: RateLimitStore; capacity: number; refillPerSecond: number };
  /** A bucket per remote address in front of the token check, in this replica's memory; default 1000 at once, 500/s. */
  ipRateLimit?: BucketPolicy;
  idempotency: IdempotencyStore;
  proxies: readonly MountedProxy[];
  readiness: Record<string, ReadinessCheck>;
  metrics?: Metrics;
  /** Whether the server still takes new work (false once shutdown began). */
  accepting?: () => boolean;
  /** Largest event body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** The URL clients reach the gateway at, for the OpenAPI document (asked when it is served: the port may be known only then). */
  publicUrl: string | (() => string);
  logger?: Record<'error' | 'warn', (message: string, fields?: Record<string, unknown>) => void>;
}

/**
 * The gateway: `/v1` behind OAuth 2.0 bearer tokens and a rate limit per client, publishing
 * events (`POST /v1/events/{type}`) and forwarding the route table's prefixes to their services;
 * `/healthz`, `/readyz`, `/metrics` and `/v1/openapi.json` open. Every error is problem+json.
 */
export function createGatewayApp(parts: GatewayParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const events: Map<string, EventContract> = publishableEvents(parts.catalog);
  const descriptions = upstreamDescriptions(parts.logger ? { logger: parts.logger } : {});
  const document = async (): Promise<Record<string, unknown>> => {
    const proxies = await Promise.all(
      parts.proxies.map(async (proxy): Promise<ProxyDescription> => {
        const base = { prefix: proxy.prefix, upstreamName: proxy.name, scopes: proxy.scopes };
        if (!proxy.api) return { ...base, unavailable: 'the route names no description' };
        const { gatewayPath } = proxy.api;
        const described = await descriptions.describe(proxy.api.url);
        return described.document
          ? { ...base, service: { document: described.document, gatewayPath } }
          : { ...base, unavailable: described.reason };
      }),
    );
    const serverUrl = typeof parts.publicUrl === 'function' ? parts.publicUrl() : parts.publicUrl;
    return openApiDocument({ events, issuer: parts.auth.issuer, serverUrl, proxies });
  };

  app.use(httpMetrics());
  app.use(requestId());
  app.use(securityHeaders());
  if (parts.metrics) {
    app.get('/metrics', metricsHandler(parts.metrics));
    refuseOtherMethods(app, '/metrics', ['GET']);
  }
  app.use(
    healthRoutes({
      checks: parts.readiness,
      ...(parts.accepting ? { accepting: parts.accepting } : {}),
      ...(parts.logger ? { logger: parts.logger } : {}),
    }),
  );
  app.get('/v1/openapi.json', async (_req, res) => {
    res.json(await document());
  });
  refuseOtherMethods(app, '/v1/openapi.json', ['GET']);

  // One verifier (one JWKS cache) and one limiter (one bucket per client) for every route. The
  // address's bucket comes first: a bogus token costs a signature check, and without a limit in
  // front of it anyone could make the gateway spend its CPU on them for free. It guards this
  // replica's CPU, so it counts in this replica's memory: no Redis round trip per request.
  const limitAddress = rateLimit({
    store: memoryRateLimitStore(),
    ...(parts.ipRateLimit ?? { capacity: 1000, refillPerSecond: 500 }),
    name: 'ip',
    key: (req) => `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`,
  });
  const authenticate = bearerAuth(parts.auth);
  const limit = rateLimit(parts.rateLimit);
  // Refusals of /v1's guards, and proxied answers, are labelled by their mount in the metrics.
  app.use('/v1', routeLabel('/v1/*'), limitAddress, authenticate, limit);
  app.use(
    '/v1',
    eventRoutes({
      events,
      publisher: parts.publisher,
      idempotency: parts.idempotency,
      maxBodyBytes: parts.maxBodyBytes ?? 1024 * 1024,
      ...(parts.logger ? { logger: parts.logger } : {}),
    }),
  );

  for (const proxy of parts.proxies) {
    const guards = new Map(Object.entries(proxy.scopes).map(([method, scope]) => [method.toUpperCase(), requireScope(scope)]));
    const refuse = methodNotAllowed([...guards.keys()], proxy.prefix);
    const byMethod: RequestHandler = (req, res, next) => {
      const guard = guards.get(req.method);
      if (guard) {
        guard(req, res, next);
        return;
      }
      // Allow names what this resource answers: what the backend declares for it (as last
      // described) that the route lets through; the route's methods when it is not described.
      const document = proxy.api && descriptions.cached(proxy.api.url);
      // Not described yet: asked now, for the next answer (this one must not wait on the backend).
      if (proxy.api && !document) descriptions.describe(proxy.api.url).catch(() => {});
      const declared =
        proxy.api && document && declaredMethods({ document, gatewayPath: proxy.api.gatewayPath }, req.originalUrl.split('?')[0] ?? '');
      const allowed = declared?.filter((method) => guards.has(method));
      if (allowed?.length) methodNotAllowed(allowed, req.originalUrl.split('?')[0])(req, res, next);
      else refuse(req, res, next);
    };
    app.use(proxy.prefix, routeLabel(`${proxy.prefix}/*`), byMethod, proxy.handler);
  }

  app.use(notFound());
  app.use(problemHandler(parts.logger ? { logger: parts.logger } : {}));
  return app;
}
