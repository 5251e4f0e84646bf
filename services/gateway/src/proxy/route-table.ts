import { readFileSync } from 'node:fs';
import { type BreakerOptions, breakerSchema, type HttpClientOptions, type UpstreamOptions } from '@junction/http';
import { type FieldProblem, JunctionError } from '@junction/observability';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/** One entry of the route table: requests under `prefix` go to `upstream`. */
export interface Route {
  /** The backend's name (`orders`), for logs and the OpenAPI document; default the prefix's last segment. */
  name: string;
  /** Under `/v1/`, so every route sits behind the gateway's token check. */
  prefix: string;
  /** The backend's origin, with a base path when it has one: `http://127.0.0.1:8101`. */
  upstream: string;
  /** Taken off the front of the path before it is sent (`/v1`: `/v1/orders/7` → `/orders/7`). */
  stripPrefix?: string;
  /** Method → the scope a caller needs for it; a method not listed is not allowed. */
  scopes: Readonly<Record<string, string>>;
  /** The deadline of each forwarded call, retries included. */
  timeoutMs: number;
  /** Retries of idempotent requests; default the client's (2). */
  retries?: number;
  /** The upstream's breaker, or false for none; default the client's (5 failures, open 10 s). */
  breaker?: BreakerOptions | false;
  /** Largest request body forwarded. Default 1 MiB. */
  maxBodyBytes: number;
}

/** The route table, as loaded from its file. */
export interface RouteTable {
  file: string;
  routes: readonly Route[];
}

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const path = z
  .string()
  .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a path of plain segments, starting with / and without a trailing /, e.g. /v1/orders')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'no . or .. segments');
const routeSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name, e.g. orders')
      .optional(),
    prefix: path.refine((p) => p.startsWith('/v1/'), 'under /v1/, where callers are authenticated'),
    upstream: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'an http(s) URL, e.g. http://127.0.0.1:8101')
      .refine(
        (u) => !URL.canParse(u) || (!new URL(u).search && !new URL(u).hash && !new URL(u).username),
        'no query, fragment or credentials',
      ),
    stripPrefix: path.optional(),
    scopes: z
      .partialRecord(
        z.enum(METHODS, { message: `a method among ${METHODS.join(', ')}` }),
        z.string().regex(/^[a-z0-9][a-z0-9._:-]*$/, 'a scope, e.g. orders:read'),
      )
      .refine((s) => Object.keys(s).length > 0, 'at least one method'),
    timeoutMs: z.number().int().min(1).max(300_000),
    retries: z.number().int().min(0).max(10).optional(),
    breaker: z.union([breakerSchema, z.literal(false)]).optional(),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
  })
  .strict()
  .refine((r) => r.stripPrefix === undefined || r.prefix === r.stripPrefix || r.prefix.startsWith(`${r.stripPrefix}/`), {
    message: 'must be the prefix itself or a leading part of it, segment by segment',
    path: ['stripPrefix'],
  });
const tableSchema = z
  .object({ routes: z.array(routeSchema).min(1, 'at least one route') })
  .strict()
  .superRefine((table, ctx) => {
    const seen = new Map<string, number>();
    table.routes.forEach((route, i) => {
      const first = seen.get(route.prefix);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'prefix'], message: `${route.prefix} is routes.${first}'s prefix too` });
      seen.set(route.prefix, i);
      if (route.prefix === '/v1/events' || route.prefix.startsWith('/v1/events/'))
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'prefix'], message: '/v1/events is the gateway’s own' });
    });
  });

/** A zod issue as field problems; an unknown key is named in the path, so a typo points at itself. */
function fieldProblems(issue: z.core.$ZodIssue): FieldProblem[] {
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = at.endsWith('scopes') ? `not a method (${METHODS.join(', ')})` : 'not a field of a route table';
    return issue.keys.map((key) => ({ path: at ? `${at}.${key}` : key, reason: known }));
  }
  return [{ path: at, reason: issue.message }];
}

function invalid(file: string, fields: FieldProblem[]): JunctionError {
  const list = fields.map((f) => `${f.path || '(file)'}: ${f.reason}`).join('; ');
  return new JunctionError('config.invalid', `the route table ${file} is not valid: ${list}`, { context: { file, fields } });
}

/**
 * Reads and checks the gateway's route table (YAML: `routes: [{ prefix, upstream, scopes, timeoutMs, … }]`),
 * reporting every problem at once with its field path (`routes.2.scopes.FETCH`).
 */
export function loadRouteTable(file: string): RouteTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new JunctionError('config.invalid', `the route table ${file} cannot be read: ${(error as Error).message}`, {
      cause: error,
      context: { file },
    });
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0)
    throw invalid(
      file,
      document.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, reason: e.message.split('\n')[0] ?? e.message })),
    );
  const parsed = tableSchema.safeParse(document.toJS());
  if (!parsed.success) throw invalid(file, parsed.error.issues.flatMap(fieldProblems));
  const routes = parsed.data.routes.map(({ name, stripPrefix, retries, breaker, ...route }) => ({
    ...route,
    name: name ?? route.prefix.slice(route.prefix.lastIndexOf('/') + 1),
    ...(stripPrefix === undefined ? {} : { stripPrefix }),
    ...(retries === undefined ? {} : { retries }),
    ...(breaker === undefined ? {} : { breaker }),
  }));
  return { file, routes };
}

/** The scope a method needs on a route; undefined when the route does not allow the method (a 405). */
export function routeScope(route: Pick<Route, 'scopes'>, method: string): string | undefined {
  const scopes: Readonly<Record<string, string | undefined>> = route.scopes;
  return Object.hasOwn(scopes, method.toUpperCase()) ? scopes[method.toUpperCase()] : undefined;
}

/**
 * The outbound client's settings for a table: each upstream origin's breaker and retries, from
 * the first route that names it (routes to one origin share its connections and its breaker).
 */
export function clientOptionsOf(table: RouteTable): HttpClientOptions {
  const upstreams: Record<string, UpstreamOptions> = {};
  for (const route of table.routes) {
    const origin = new URL(route.upstream).origin;
    upstreams[origin] ??= {
      timeoutMs: route.timeoutMs,
      ...(route.retries === undefined ? {} : { retries: route.retries }),
      ...(route.breaker === undefined ? {} : { breaker: route.breaker }),
    };
  }
  return { upstreams };
}
