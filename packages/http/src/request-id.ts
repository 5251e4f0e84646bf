import { randomUUID } from 'node:crypto';
import { JunctionError, withLogFields } from '@junction/observability';
import type { RequestHandler } from 'express';

/** The request id header, in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids a caller may choose (request and correlation ids): short and plain, so they are safe in logs and headers. */
export const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What an `Idempotency-Key` may be, everywhere in Junction (the gateway's events, the services'
 * POSTs): a safe id, as it is stored, logged and echoed in problem details. One rule, stated in
 * every OpenAPI document from this constant.
 */
export const IDEMPOTENCY_KEY = SAFE_ID;

/** What {@link idempotencyKeyOf} reads: an express or node request. */
type WithHeaders = { headers: Record<string, string | string[] | undefined> };

/**
 * The request's `Idempotency-Key` ({@link IDEMPOTENCY_KEY}), or undefined when it sent none and
 * none is `required`; a 400 `request.invalid` naming the header otherwise.
 */
export function idempotencyKeyOf(req: WithHeaders, options: { required: string }): string;
export function idempotencyKeyOf(req: WithHeaders, options?: { required?: string }): string | undefined;
export function idempotencyKeyOf(req: WithHeaders, options: { required?: string } = {}): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined && options.required === undefined) return undefined;
  if (typeof key === 'string' && IDEMPOTENCY_KEY.test(key)) return key;
  const reason = key === undefined ? `required: ${options.required}` : 'expected 1 to 128 of A-Z a-z 0-9 . _ : -';
  throw new JunctionError(
    'request.invalid',
    key === undefined ? `Idempotency-Key is ${reason}` : 'Idempotency-Key must be 1 to 128 letters, digits or . _ : -',
    { context: { fields: [{ path: '(header).Idempotency-Key', reason }] } },
  );
}

/**
 * Gives every request an id: the caller's `X-Request-Id` when it is a plain token, else a new
 * UUID. It is answered in the same header, set on `req.id`, and carried by every log line written
 * while the request is handled.
 */
export function requestId(): RequestHandler {
  return function junctionRequestId(req, res, next) {
    const given = req.headers[REQUEST_ID_HEADER];
    const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    withLogFields({ request_id: id }, () => next());
  };
}
