import { type FieldProblem, JunctionError, type JunctionErrorCode } from '@junction/observability';
import type { ErrorRequestHandler } from 'express';

/** The HTTP status for each error code; a Record, so a new code cannot go unmapped. */
const STATUS: Record<JunctionErrorCode, number> = {
  'config.invalid': 500,
  'event.invalid': 422,
  'event.undecodable': 400,
  'schema.unknown': 422,
  'schema.incompatible': 409,
  'registry.unavailable': 503,
  'broker.unavailable': 503,
  'topic.unknown': 503,
  'publisher.backpressure': 503,
  timeout: 504,
  'circuit.open': 503,
  'inbox.unavailable': 503,
  'broker.denied': 500,
  'request.invalid': 400,
  'request.too-large': 413,
  'request.unsupported-type': 415,
  'route.unknown': 404,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  'rate.limited': 429,
  'idempotency.conflict': 422,
  'idempotency.in-progress': 409,
  'upstream.unavailable': 502,
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
  timeout: 'Timed out',
  'circuit.open': 'Dependency failing, calls paused',
  'inbox.unavailable': 'Deduplication store unavailable',
  'broker.denied': 'Kafka refused this service',
  'request.invalid': 'Request is not valid',
  'request.too-large': 'Request body too large',
  'request.unsupported-type': 'Unsupported content type',
  'route.unknown': 'No such resource',
  'auth.unauthenticated': 'Authentication required',
  'auth.forbidden': 'Not allowed',
  'rate.limited': 'Too many requests',
  'idempotency.conflict': 'Idempotency key reused with a different request',
  'idempotency.in-progress': 'A request with this idempotency key is still in progress',
  'upstream.unavailable': 'Upstream service unavailable',
  internal: 'Internal error',
};

/** 5xx codes whose message says which dependency is down and nothing more, so callers may read it. */
const EXPLAINED: ReadonlySet<JunctionErrorCode> = new Set([
  'registry.unavailable',
  'broker.unavailable',
  'publisher.backpressure',
  'upstream.unavailable',
  'circuit.open',
  'timeout',
]);

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

/** Express error middleware answering every error as `application/problem+json`. */
export function problemHandler(): ErrorRequestHandler {
  return (error, request, response, next) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    const problem = toProblem(error, request.originalUrl);
    if (problem.retriable) response.setHeader('retry-after', '1');
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  };
}
