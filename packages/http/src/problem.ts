import { type FieldProblem, JunctionError, type JunctionErrorCode } from '@junction/observability';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { LogSink } from './log.ts';
import { unmatchedRoute } from './metrics.ts';

/** The HTTP status for each error code; a Record, so a new code cannot go unmapped. */
const STATUS: Record<JunctionErrorCode, number> = {
  'config.invalid': 500,
  'event.invalid': 400,
  'event.undecodable': 400,
  'schema.unknown': 422,
  'schema.incompatible': 409,
  'registry.unavailable': 503,
  'broker.unavailable': 503,
  'topic.unknown': 503,
  'publisher.backpressure': 503,
  'publisher.outcome-unknown': 503,
  timeout: 504,
  'circuit.open': 503,
  'inbox.unavailable': 503,
  'broker.denied': 500,
  'request.invalid': 400,
  'request.too-large': 413,
  'request.unsupported-type': 415,
  'route.unknown': 404,
  'method.unsupported': 405,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  'rate.limited': 429,
  'idempotency.conflict': 422,
  'idempotency.in-progress': 409,
  'upstream.unavailable': 502,
  'database.unavailable': 503,
  'request.unprocessable': 422,
  'state.conflict': 409,
  internal: 500,
};

const TITLE: Record<JunctionErrorCode, string> = {
  'config.invalid': 'Server misconfigured',
  'event.invalid': 'Event does not match its schema',
  'event.undecodable': 'Body cannot be read',
  'schema.unknown': 'Unknown schema',
  'schema.incompatible': 'Incompatible schema',
  'registry.unavailable': 'Schema registry unavailable',
  'broker.unavailable': 'Kafka unavailable',
  'topic.unknown': 'Topic does not exist',
  'publisher.backpressure': 'Too many events in flight',
  'publisher.outcome-unknown': 'Kafka may or may not have written the events',
  timeout: 'Timed out',
  'circuit.open': 'Dependency failing, calls paused',
  'inbox.unavailable': 'Deduplication store unavailable',
  'broker.denied': 'Kafka refused this service',
  'request.invalid': 'Request is not valid',
  'request.too-large': 'Request body too large',
  'request.unsupported-type': 'Unsupported content type',
  'route.unknown': 'No such resource',
  'method.unsupported': 'Method not allowed',
  'auth.unauthenticated': 'Authentication required',
  'auth.forbidden': 'Not allowed',
  'rate.limited': 'Too many requests',
  'idempotency.conflict': 'Idempotency key reused with a different request',
  'idempotency.in-progress': 'A request with this idempotency key is still in progress',
  'upstream.unavailable': 'Upstream service unavailable',
  'database.unavailable': 'Database unavailable',
  'request.unprocessable': 'Request breaks a business rule',
  'state.conflict': 'Not allowed in its current state',
  internal: 'Internal error',
};

/** 5xx codes whose message says which dependency is down and nothing more, so callers may read it. */
const EXPLAINED: ReadonlySet<JunctionErrorCode> = new Set([
  'registry.unavailable',
  'broker.unavailable',
  'publisher.backpressure',
  'publisher.outcome-unknown',
  'upstream.unavailable',
  'database.unavailable',
  'circuit.open',
  'timeout',
]);

/** The JSON Schema of {@link Problem}, as OpenAPI documents show it (components.schemas.Problem). */
export const PROBLEM_SCHEMA: Readonly<Record<string, unknown>> = {
  type: 'object',
  description: 'RFC 9457 problem details, with Junction error code',
  required: ['type', 'title', 'status', 'detail', 'code', 'retriable'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    retriable: { type: 'boolean' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** One field that failed validation. */
export interface ProblemField {
  path: string;
  message: string;
}

/** An RFC 9457 problem details body, with Junction's error code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: JunctionErrorCode;
  retriable: boolean;
  instance?: string;
  errors?: ProblemField[];
}

/** A field problem as `errors[]` shows it; a bare path (older producers of the error) says only that it is invalid. */
function problemField(field: unknown): ProblemField {
  if (field !== null && typeof field === 'object' && 'path' in field) {
    const { path, reason } = field as Partial<FieldProblem>;
    return { path: String(path), message: reason ?? 'invalid value' };
  }
  return { path: String(field), message: 'invalid value' };
}

/**
 * The problem details for an error. Internal errors say only that something failed: their
 * messages may hold details that are nobody's business outside the service.
 */
export function toProblem(error: unknown, instance?: string): Problem {
  const junction = JunctionError.from(error);
  const fields = junction.context.fields;
  const errors = Array.isArray(fields) ? (fields as unknown[]).map(problemField) : undefined;
  const hidden = STATUS[junction.code] >= 500 && !EXPLAINED.has(junction.code);
  return {
    type: `https://junction.dev/problems/${junction.code}`,
    title: TITLE[junction.code],
    status: STATUS[junction.code],
    detail: hidden ? 'The server failed to handle the request; the error is logged.' : junction.message,
    code: junction.code,
    retriable: junction.retriable,
    ...(instance ? { instance } : {}),
    ...(errors ? { errors } : {}),
  };
}

/** Response headers an error may ask for (an RFC 6750 challenge, rate-limit state); nothing else passes. */
const ERROR_HEADERS = new Set(['www-authenticate', 'retry-after', 'ratelimit', 'ratelimit-policy', 'allow']);

/**
 * The JunctionError for what express and body-parser throw themselves (`err.type` and `err.status`):
 * a body too large, unreadable JSON, a charset we do not read.
 */
export function fromHttpError(error: unknown): unknown {
  if (error instanceof JunctionError || error === null || typeof error !== 'object') return error;
  const { type, status, limit } = error as { type?: unknown; status?: unknown; limit?: unknown };
  if (type === 'entity.too.large')
    return new JunctionError('request.too-large', `the request body is larger than the ${limit} bytes this endpoint accepts`, {
      cause: error,
      context: { limit },
    });
  if (type === 'entity.parse.failed')
    return new JunctionError('request.invalid', `the request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  if (type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new JunctionError('request.unsupported-type', (error as Error).message, { cause: error });
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new JunctionError('request.invalid', (error as Error).message, { cause: error });
  return error;
}

/** Options of {@link problemHandler}. */
export interface ProblemHandlerOptions {
  /** Where server errors (5xx) are logged with their cause; client errors are the caller's business and are not. */
  logger?: LogSink<'error'>;
}

/**
 * Express error middleware answering every error as `application/problem+json`. Headers an error
 * carries in `context.headers` (a 401's challenge, a 429's limits) are sent with it; a retriable
 * error gets `Retry-After` from its `context.retryAfterMs`, else 1 s.
 */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorRequestHandler {
  return (thrown, request, response, next) => {
    if (response.headersSent) {
      next(thrown);
      return;
    }
    const error = JunctionError.from(fromHttpError(thrown));
    const problem = toProblem(error, request.originalUrl);
    const headers = error.context.headers;
    if (headers && typeof headers === 'object') {
      for (const [name, value] of Object.entries(headers)) {
        if (ERROR_HEADERS.has(name.toLowerCase()) && typeof value === 'string') response.setHeader(name, value);
      }
    }
    if (problem.retriable && !response.hasHeader('retry-after')) {
      const afterMs = Number(error.context.retryAfterMs);
      response.setHeader('retry-after', String(Number.isFinite(afterMs) && afterMs > 0 ? Math.ceil(afterMs / 1000) : 1));
    }
    if (problem.status >= 500) {
      options.logger?.error('request failed', { code: error.code, status: problem.status, path: request.path, err: error });
    }
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  };
}

/** The last route: whatever no route matched is a 404 problem that says where to look. */
export function notFound(hint = 'see /v1/openapi.json for the routes this service has'): RequestHandler {
  return (req, _res, next) => {
    // Mounts it went through labelled it (routeLabel); no route answered it, and scanners' paths must stay one series.
    unmatchedRoute(req);
    next(new JunctionError('route.unknown', `no route for ${req.method} ${req.path}; ${hint}`));
  };
}
