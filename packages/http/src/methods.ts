import { JunctionError } from '@junction/observability';
import type { RequestHandler } from 'express';

/**
 * The `Allow` value for the methods a resource declares: upper case, in the order given, with
 * HEAD after GET (express answers HEAD with the GET handler).
 */
export function allowHeader(methods: readonly string[]): string {
  const allowed: string[] = [];
  for (const method of methods.map((m) => m.toUpperCase())) {
    if (!allowed.includes(method)) allowed.push(method);
    if (method === 'GET' && !allowed.includes('HEAD') && !methods.some((m) => m.toUpperCase() === 'HEAD')) allowed.push('HEAD');
  }
  return allowed.join(', ');
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
 * after the path's handlers, which answer the methods they declare first.
 */
export function refuseOtherMethods(
  router: { all(path: string, ...handlers: RequestHandler[]): unknown },
  path: string,
  methods: readonly string[],
): void {
  router.all(path, methodNotAllowed(methods, path));
}
