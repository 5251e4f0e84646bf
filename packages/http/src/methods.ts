import { JunctionError } from '@junction/observability';
import type { RequestHandler } from 'express';

/** The `Allow` value for the methods a resource declares: upper case, each once, in the order given. */
export function allowHeader(methods: readonly string[]): string {
  return [...new Set(methods.map((m) => m.toUpperCase()))].join(', ');
}

/**
 * The answer to a method a resource does not declare: a 405 problem with `Allow` (RFC 9110
 * §15.5.6), never a 404, which would tell the caller the resource is not there.
 */
export function methodNotAllowed(methods: readonly string[], resource?: string): RequestHandler {
  const allow = allowHeader(methods);
  return (req, _res, next) => {
    next(
      new JunctionError('method.unsupported', `${resource ?? req.path} answers ${allow}, not ${req.method}`, {
        context: { headers: { allow } },
      }),
    );
  };
}

/**
 * After a router's handlers for `path`: every other method gets a 405 with `Allow`. Mount it
 * after the path's handlers, which answer the methods they declare first; HEAD is allowed with
 * GET, as express answers it with the GET handler.
 */
export function refuseOtherMethods(
  router: { all(path: string, ...handlers: RequestHandler[]): unknown },
  path: string,
  methods: readonly string[],
): void {
  const upper = methods.map((m) => m.toUpperCase());
  const withHead = upper.flatMap((m) => (m === 'GET' && !upper.includes('HEAD') ? ['GET', 'HEAD'] : [m]));
  router.all(path, methodNotAllowed(withHead, path));
}
