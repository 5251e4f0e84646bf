import type { JsonSchema } from './json-schema.ts';
import { GUARD_RESPONSES, PROXY_RESPONSES, problem, withGatewayHeaders } from './responses.ts';

/** A route of the route table as the document shows it, with its backend's own description when there is one. */
export interface ProxyDescription {
  prefix: string;
  upstreamName: string;
  /** Method → the scope it needs; other methods are the gateway's 405. */
  scopes: Readonly<Record<string, string>>;
  /** The backend's OpenAPI document, and the gateway path of each of its paths (undefined: not reachable through this route). */
  service?: { document: JsonSchema; gatewayPath(servicePath: string): string | undefined };
  /** Why the backend's description is missing: the route is then one generic entry. */
  unavailable?: string;
}

/**
 * What the proxy forwards in a path segment (see `proxy/handler.ts`): no separator, backslash,
 * control character or dot segment, and no `%` (a literal `%2e` would read as an encoded dot to a
 * backend that decodes twice). A path parameter through the gateway is its backend's schema and this.
 */
const FORWARDABLE_SEGMENT: JsonSchema = {
  type: 'string',
  pattern: '^[^/\\\\%\\u0000-\\u001f\\u007f]+$',
  not: { enum: ['.', '..'] },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * The methods a backend declares for the resource at `path` (a gateway path, as requested), from
 * its description; undefined when no path of it matches.
 */
export function declaredMethods(service: NonNullable<ProxyDescription['service']>, path: string): string[] | undefined {
  for (const [servicePath, item] of Object.entries((service.document.paths ?? {}) as Record<string, JsonSchema>)) {
    const template = service.gatewayPath(servicePath);
    if (!template) continue;
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(path)) return METHODS.filter((method) => method in item).map((method) => method.toUpperCase());
  }
  return undefined;
}

/** Two documents' answers to one status: the backend's body, both descriptions, and a header required only where both always send it. */
function mergeAnswer(service: JsonSchema, gateway: JsonSchema): JsonSchema {
  const theirs = (service.headers ?? {}) as Record<string, JsonSchema>;
  const ours = (gateway.headers ?? {}) as Record<string, JsonSchema>;
  const headers: Record<string, JsonSchema> = {};
  for (const name of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
    const header = (theirs[name] ?? ours[name]) as JsonSchema;
    headers[name] = name in theirs && name in ours ? header : { ...header, required: false };
  }
  return { ...service, description: `${String(service.description)}; or, from the gateway: ${String(gateway.description)}`, headers };
}

/**
 * One backend operation as the gateway serves it: under the route's prefix, behind the method's
 * scope, with the gateway's own answers added (its guards override the backend's: they answer
 * first) and its headers on every answer.
 */
function forwarded(proxy: ProxyDescription, method: string, operation: JsonSchema, scope: string): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  const own: Record<string, JsonSchema> = {
    ...PROXY_RESPONSES,
    ...(operation.requestBody ? { '413': problem('The body is larger than the gateway forwards') } : {}),
  };
  for (const [status, answer] of Object.entries((operation.responses ?? {}) as Record<string, JsonSchema>)) {
    responses[status] = status in own ? mergeAnswer(answer, own[status] as JsonSchema) : answer;
  }
  for (const [status, answer] of Object.entries(own)) responses[status] ??= answer;
  Object.assign(responses, GUARD_RESPONSES);
  for (const [status, answer] of Object.entries(responses)) responses[status] = withGatewayHeaders(answer, true);
  const parameters = ((operation.parameters ?? []) as JsonSchema[]).map((parameter) =>
    parameter.in === 'path' ? { ...parameter, schema: { allOf: [parameter.schema ?? {}, FORWARDABLE_SEGMENT] } } : parameter,
  );
  return {
    ...operation,
    ...(parameters.length ? { parameters } : {}),
    operationId: `${proxy.upstreamName}.${String(operation.operationId ?? method)}`,
    tags: [proxy.upstreamName],
    security: [{ oauth2: [scope] }],
    responses,
  };
}

/** The paths a route contributes: its backend's operations, rewritten; or one generic entry when the backend did not describe itself. */
export function proxyPaths(proxy: ProxyDescription): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  const scopes = new Map(Object.entries(proxy.scopes).map(([method, scope]) => [method.toLowerCase(), scope]));
  if (proxy.service) {
    for (const [servicePath, item] of Object.entries((proxy.service.document.paths ?? {}) as Record<string, JsonSchema>)) {
      const path = proxy.service.gatewayPath(servicePath);
      if (!path) continue;
      const operations: JsonSchema = {};
      for (const method of METHODS) {
        const operation = item[method] as JsonSchema | undefined;
        const scope = scopes.get(method);
        // A method the route table does not allow is the gateway's 405, whatever the backend has.
        if (operation && scope) operations[method] = forwarded(proxy, method, operation, scope);
      }
      if (Object.keys(operations).length > 0) paths[path] = operations;
    }
    return paths;
  }
  const operations: JsonSchema = {};
  for (const [method, scope] of scopes) {
    const responses: Record<string, JsonSchema> = {
      default: { description: `The answer of ${proxy.upstreamName}, as it gave it` },
      ...PROXY_RESPONSES,
      '413': problem('The body is larger than the gateway forwards'),
      ...GUARD_RESPONSES,
    };
    for (const [status, answer] of Object.entries(responses))
      if (status !== 'default') responses[status] = withGatewayHeaders(answer, true);
    operations[method] = {
      operationId: `${method}${proxy.upstreamName.replace(/[^A-Za-z0-9]/g, '')}`,
      summary: `Forwarded to ${proxy.upstreamName}`,
      description: `${proxy.upstreamName}'s own description could not be fetched (${proxy.unavailable ?? 'none'}): its routes are forwarded as they are, and described here once it answers.`,
      tags: [proxy.upstreamName],
      security: [{ oauth2: [scope] }],
      parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
      responses,
    };
  }
  paths[`${proxy.prefix}/{path}`] = operations;
  return paths;
}
