import { JunctionError } from '@junction/observability';
import type { Request, RequestHandler } from 'express';
import { unauthenticated } from './bearer.ts';

/** A 403 naming the scope the caller lacks, with RFC 6750's `insufficient_scope` challenge. */
export function forbidden(scope: string): JunctionError {
  return new JunctionError('auth.forbidden', `this request needs the scope ${scope}, which the token does not carry`, {
    context: {
      scope,
      headers: { 'www-authenticate': `Bearer realm="junction", error="insufficient_scope", scope="${scope}"` },
    },
  });
}

/** Fails unless the verified caller holds `scope` (call after `bearerAuth`). */
export function checkScope(req: Request, scope: string): void {
  if (!req.auth) throw unauthenticated('an access token is required: send Authorization: Bearer <token>', false);
  if (!req.auth.scopes.has(scope)) throw forbidden(scope);
}

/**
 * Lets a request through only when its token carries every one of `scopes`; mount after
 * `bearerAuth`. A missing scope is a 403 problem naming it. Scopes that depend on the request
 * (an event type's topic) are checked in the handler with {@link checkScope}.
 */
export function requireScope(...scopes: string[]): RequestHandler {
  if (scopes.length === 0) throw new JunctionError('config.invalid', 'requireScope needs at least one scope');
  return function junctionRequireScope(req, _res, next) {
    try {
      for (const scope of scopes) checkScope(req, scope);
      next();
    } catch (error) {
      next(error);
    }
  };
}
