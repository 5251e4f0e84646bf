import { IDEMPOTENCY_KEY, PROBLEM_SCHEMA, refuseOtherMethods, SAFE_ID } from '@junction/http';
import { JunctionError } from '@junction/observability';
import type { Router } from 'express';
import { z } from 'zod';

/** A method a service's operation may have. */
export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A request or response header: what it means and what it holds. */
export interface ApiHeader {
  description: string;
  schema: z.ZodType;
  /** Whether it is always sent (a response header) or must be (a request header). */
  required?: boolean;
}

/** One answer of an operation: a JSON body (a zod schema), a problem (`problem+json`), or none. */
export interface ApiResponse {
  description: string;
  body?: z.ZodType | 'problem';
  headers?: Record<string, ApiHeader>;
}

/** One route of a service, as its callers see it. */
export interface ApiOperation {
  method: ApiMethod;
  /** As the route is mounted: `/orders/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The path's parameters (`:id`), each with its schema. */
  params?: Record<string, { description: string; schema: z.ZodType }>;
  /** Query parameters the operation reads; an array is sent repeated (`?id=a&id=b`). */
  query?: Record<string, ApiHeader>;
  /** Request headers the operation reads. */
  headers?: Record<string, ApiHeader>;
  /** The JSON body: its schema (as parsed), whether it must be sent, and an example that works as it is. */
  body?: { schema: z.ZodType; required: boolean; example?: unknown };
  /** Every status the route answers, each with its body and headers. The kit adds its own (see {@link openApiOf}). */
  responses: Record<number, ApiResponse>;
}

/** A service's HTTP API: every route it mounts, described. The kit checks the two agree at start. */
export interface ServiceApi {
  description?: string;
  operations: readonly ApiOperation[];
}

/** A JSON Schema, or an OpenAPI object, as plain data. */
type Json = Record<string, unknown>;

/** The request header that makes a POST safe to retry, with its one rule ({@link IDEMPOTENCY_KEY}). */
export function idempotencyKeyHeader(description: string): ApiHeader {
  return { description, required: true, schema: z.string().regex(IDEMPOTENCY_KEY) };
}

/** The JSON Schema of a zod schema, as OpenAPI 3.1 embeds it (no `$schema`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  return rest;
}

/** `/orders/:id` → `/orders/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const problem = (description: string): Json => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The header the kit answers every request with (the caller's plain id, else a new UUID). */
const REQUEST_ID: Json = {
  description:
    "The request's id, in the logs of every service it reached: the caller's X-Request-Id when it is a plain id, else a new UUID",
  required: true,
  schema: { type: 'string', pattern: SAFE_ID.source },
};

function header(spec: ApiHeader): Json {
  return { description: spec.description, required: spec.required ?? false, schema: jsonSchema(spec.schema, 'output') };
}

function response(spec: ApiResponse): Json {
  const headers: Json = { 'X-Request-Id': REQUEST_ID };
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name] = header(value);
  const content =
    spec.body === undefined
      ? undefined
      : spec.body === 'problem'
        ? problem(spec.description).content
        : { 'application/json': { schema: jsonSchema(spec.body, 'output') } };
  return { description: spec.description, headers, ...(content ? { content } : {}) };
}

/**
 * What the kit itself may answer on an operation, besides the route: a body that is not JSON
 * (400), too large (413) or of another type (415) where a body is read, and a dependency
 * (the database) that does not answer (503).
 */
function kitResponses(operation: ApiOperation): Record<number, ApiResponse> {
  const own: Record<number, ApiResponse> = {
    503: {
      description: 'A dependency (the database) is unavailable; retry later',
      body: 'problem',
      headers: { 'Retry-After': { description: 'Seconds to wait', schema: z.string().regex(/^\d+$/), required: true } },
    },
  };
  if (operation.body) {
    own[400] = { description: 'The body is not JSON, or not of the schema: `errors` names every failing field', body: 'problem' };
    own[413] = { description: 'The body is larger than the service accepts', body: 'problem' };
    own[415] = { description: 'The body is not application/json', body: 'problem' };
  }
  return own;
}

function operationOf(spec: ApiOperation): Json {
  const parameters: Json[] = [];
  for (const [name, param] of Object.entries(spec.params ?? {}))
    parameters.push({ name, in: 'path', required: true, description: param.description, schema: jsonSchema(param.schema, 'input') });
  for (const [name, value] of Object.entries(spec.query ?? {}))
    parameters.push({
      name,
      in: 'query',
      required: value.required ?? false,
      description: value.description,
      schema: jsonSchema(value.schema, 'input'),
      style: 'form',
      explode: true,
    });
  for (const [name, value] of Object.entries(spec.headers ?? {}))
    parameters.push({
      name,
      in: 'header',
      required: value.required ?? false,
      description: value.description,
      schema: jsonSchema(value.schema, 'input'),
    });
  const responses: Json = {};
  for (const [status, answer] of Object.entries({ ...kitResponses(spec), ...spec.responses })) responses[status] = response(answer);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            content: {
              'application/json': {
                schema: jsonSchema(spec.body.schema, 'input'),
                ...(spec.body.example === undefined ? {} : { example: spec.body.example }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/**
 * A service's OpenAPI 3.1 document, served by the kit at `GET /openapi.json`: every operation
 * with its parameters, body and answers, plus what the kit answers itself (`X-Request-Id` on
 * every answer; 400/413/415 where a body is read; 503 when a dependency is away). The only
 * component is the shared `Problem`, so a gateway can merge documents without renaming.
 */
export function openApiOf(name: string, api: ServiceApi): Json {
  const paths: Record<string, Json> = {};
  for (const operation of api.operations) {
    const path = openApiPath(operation.path);
    paths[path] = { ...paths[path], [operation.method]: operationOf(operation) };
  }
  return {
    openapi: '3.1.0',
    info: { title: `Junction ${name}`, version: '1', ...(api.description ? { description: api.description } : {}) },
    paths,
    components: { schemas: { Problem: PROBLEM_SCHEMA } },
  };
}

/** The routes a router holds: path → methods, in the order they were mounted. */
export function mountedRoutes(router: Router): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  for (const layer of router.stack as Array<{ route?: { path: unknown; methods: Record<string, boolean> } }>) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    const methods = routes.get(layer.route.path) ?? [];
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all' && !methods.includes(method)) methods.push(method);
    routes.set(layer.route.path, methods);
  }
  return routes;
}

/**
 * Checks that `api` describes exactly the routes mounted (each `METHOD path` on both sides),
 * reporting every difference at once: a document that drifted from the server is a bug found at
 * start, not by a caller.
 */
export function checkApi(name: string, api: ServiceApi, routes: Map<string, string[]>): void {
  const mounted = new Set([...routes].flatMap(([path, methods]) => methods.map((m) => `${m.toUpperCase()} ${path}`)));
  const described = new Set(api.operations.map((o) => `${o.method.toUpperCase()} ${o.path}`));
  const problems = [
    ...[...mounted].filter((route) => !described.has(route)).map((route) => `${route} is mounted but not in the api`),
    ...[...described].filter((route) => !mounted.has(route)).map((route) => `${route} is in the api but not mounted`),
  ];
  for (const operation of api.operations) {
    const inPath = [...operation.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string).sort();
    const declared = Object.keys(operation.params ?? {}).sort();
    if (inPath.join() !== declared.join())
      problems.push(
        `${operation.method.toUpperCase()} ${operation.path} declares params [${declared.join(', ')}], its path has [${inPath.join(', ')}]`,
      );
  }
  if (problems.length > 0)
    throw new JunctionError('config.invalid', `the ${name} service's api does not match its routes: ${problems.join('; ')}`, {
      context: { problems },
    });
}

/** After a router's routes: every other method on each of their paths is a 405 with `Allow`. */
export function refuseUndeclaredMethods(router: Router, routes: Map<string, string[]>): void {
  for (const [path, methods] of routes) refuseOtherMethods(router, path, methods);
}
