import { JunctionError } from '@junction/observability';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Helmet's headers for a JSON API: nothing may be framed, sniffed or loaded from it
 * (`default-src 'none'`), HSTS when served over TLS, and no `X-Powered-By`.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes; more is a 413 problem. Default 1 MiB. */
  limitBytes?: number;
}

/**
 * Parses `application/json` bodies (and `application/*+json`) up to a limit. A larger body is a
 * 413, unreadable JSON a 400, and another content type on a request with a body a 415.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler {
  const parse = express.json({ limit: options.limitBytes ?? 1024 * 1024, type: ['application/json', 'application/*+json'], strict: false });
  return function junctionJsonBody(req, res, next) {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      next(
        new JunctionError(
          'request.unsupported-type',
          `send the body as application/json, not ${req.headers['content-type'] ?? 'without a Content-Type'}`,
        ),
      );
      return;
    }
    parse(req, res, next);
  };
}
