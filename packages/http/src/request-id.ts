import { randomUUID } from 'node:crypto';
import { withLogFields } from '@junction/observability';
import type { RequestHandler } from 'express';

/** The request id header, in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids a caller may choose (request and correlation ids): short and plain, so they are safe in logs and headers. */
export const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
