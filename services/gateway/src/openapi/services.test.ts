import { describe, expect, it } from 'vitest';
import { allowedByRoute, gatewayPathOf } from '../proxy/handler.ts';
import type { Route } from '../proxy/route-table.ts';
import type { JsonSchema } from './json-schema.ts';
import { declaredMethods, proxyPaths } from './services.ts';

const route: Route = {
  name: 'orders',
  prefix: '/v1/orders',
  upstream: 'http://127.0.0.1:8101',
  stripPrefix: '/v1',
  scopes: { GET: 'orders:read', POST: 'orders:write' },
  timeoutMs: 5000,
  maxBodyBytes: 1024,
};

const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
const serviceDocument: JsonSchema = {
  paths: {
    '/orders': {
      post: {
        operationId: 'placeOrder',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          '201': { description: 'Placed', headers: { Location: { required: true, schema: { type: 'string' } } } },
          '400': { description: 'Bad body', content: problem },
        },
      },
    },
    '/orders/{id}': {
      get: {
        operationId: 'getOrder',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The order' } },
      },
      delete: { operationId: 'deleteOrder', responses: { '204': { description: 'Gone' } } },
    },
    '/elsewhere': { get: { operationId: 'elsewhere', responses: { '200': { description: 'Unreachable' } } } },
  },
};

describe('gatewayPathOf', () => {
  it('maps a backend path to the gateway path that reaches it, and none outside the route', () => {
    expect(gatewayPathOf(route, '/orders')).toBe('/v1/orders');
    expect(gatewayPathOf(route, '/orders/{id}')).toBe('/v1/orders/{id}');
    expect(gatewayPathOf(route, '/ordersx')).toBeUndefined();
    expect(gatewayPathOf({ ...route, upstream: 'http://h:1/api/' }, '/api/orders/{id}')).toBe('/v1/orders/{id}');
    expect(gatewayPathOf({ ...route, stripPrefix: undefined } as Route, '/v1/orders/{id}')).toBe('/v1/orders/{id}');
  });
});

describe('proxyPaths', () => {
  const described = {
    prefix: route.prefix,
    upstreamName: 'orders',
    scopes: route.scopes,
    service: { document: serviceDocument, gatewayPath: (path: string) => gatewayPathOf(route, path) },
  };

  it("shows a backend's operations under the gateway's paths, with the method's scope and the gateway's answers and headers", () => {
    const paths = proxyPaths(described) as Record<string, Record<string, JsonSchema>>;
    expect(Object.keys(paths)).toEqual(['/v1/orders', '/v1/orders/{id}']);
    // DELETE is not in the route table: the gateway answers it 405, so it is not documented.
    expect(Object.keys(paths['/v1/orders/{id}'] ?? {})).toEqual(['get']);
    const place = paths['/v1/orders']?.post as { operationId: string; security: unknown; responses: Record<string, JsonSchema> };
    expect(place.operationId).toBe('orders.placeOrder');
    expect(place.security).toEqual([{ oauth2: ['orders:write'] }]);
    expect(Object.keys(place.responses).sort()).toEqual(['201', '400', '401', '403', '413', '429', '502', '503', '504']);
    const created = place.responses['201'] as { headers: Record<string, { required: boolean }> };
    expect(Object.keys(created.headers).sort()).toEqual(['Location', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id']);
    expect(created.headers.RateLimit?.required).toBe(true);
    // The backend's 400 and the gateway's refused path share the status: both said, the backend's body kept.
    expect(place.responses['400']).toMatchObject({ description: expect.stringContaining('Bad body'), content: problem });
    expect(String(place.responses['400']?.description)).toContain('from the gateway');
  });

  it('narrows a path parameter to what the proxy forwards: no separator, control character, % or dot segment', () => {
    const paths = proxyPaths(described) as Record<string, Record<string, { parameters: Array<{ schema: { allOf: JsonSchema[] } }> }>>;
    const [own, forwardable] = paths['/v1/orders/{id}']?.get?.parameters[0]?.schema.allOf ?? [];
    expect(own).toEqual({ type: 'string' });
    const pattern = new RegExp(String(forwardable?.pattern));
    expect(['BOOK-0001', 'a b', 'é'].every((value) => pattern.test(value))).toBe(true);
    expect(['a/b', 'a\\b', 'a%2e', 'a\u0001'].some((value) => pattern.test(value))).toBe(false);
    expect(forwardable?.not).toEqual({ enum: ['.', '..'] });
  });

  it('keeps one generic entry, saying why, when the backend did not describe itself', () => {
    const paths = proxyPaths({ ...described, service: undefined, unavailable: 'no answer in 2000 ms' }) as Record<
      string,
      Record<string, JsonSchema>
    >;
    expect(Object.keys(paths)).toEqual(['/v1/orders/{path}']);
    expect(Object.keys(paths['/v1/orders/{path}'] ?? {})).toEqual(['get', 'post']);
    expect(String(paths['/v1/orders/{path}']?.get?.description)).toContain('no answer in 2000 ms');
  });
});

describe('Allow through the gateway', () => {
  const service = { document: serviceDocument, gatewayPath: (path: string) => gatewayPathOf(route, path) };

  it('names the methods the backend declares for the resource requested, and none for a path it does not have', () => {
    expect(declaredMethods(service, '/v1/orders')).toEqual(['POST']);
    expect(declaredMethods(service, '/v1/orders/0193f6d2-7b1e')).toEqual(['GET', 'DELETE']);
    expect(declaredMethods(service, '/v1/orders/a/b')).toBeUndefined();
    expect(declaredMethods(service, '/v1/elsewhere')).toBeUndefined();
  });

  it("keeps of a backend's Allow only what the route lets through", () => {
    expect(allowedByRoute(route, 'GET, HEAD, DELETE')).toBe('GET');
    expect(allowedByRoute(route, 'POST')).toBe('POST');
  });
});
