import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createHttpClient, type HttpClient, problemHandler, requestId } from '@junction/http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyHandler } from './handler.ts';
import type { Route } from './route-table.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A backend that records what reached it, then answers with `answer` (by default: 201 and what it saw, as JSON). */
async function backend(answer?: (seen: Seen, res: ServerResponse, hit: number) => void) {
  const seen: Seen[] = [];
  const origin = await listen(
    createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const one = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(one);
      if (answer) return answer(one, res, seen.length);
      res.writeHead(201, {
        'content-type': 'application/json',
        'x-backend': 'orders',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
      });
      res.end(JSON.stringify(one));
    }),
  );
  return { origin, seen };
}

/** The gateway in small: request ids, a caller identity where the bearer middleware would set it, the proxy and the problem handler. */
async function gateway(
  route: Route,
  client = createHttpClient({ defaults: { backoff: { initialMs: 10, multiplier: 2, maxMs: 100, jitter: 0 } } }),
  logged: unknown[] = [],
) {
  clients.push(client);
  const app = express();
  app.use(requestId());
  app.use(
    route.prefix,
    (req, _res, next) => {
      req.auth = { clientId: 'demo-client', scopes: new Set(['orders:read']), claims: {} };
      next();
    },
    proxyHandler(route, client),
  );
  app.use(problemHandler({ logger: { error: (_message, fields) => logged.push(fields?.err) } }));
  return listen(createServer(app));
}

function route(upstream: string, more: Partial<Route> = {}): Route {
  return {
    name: 'orders',
    prefix: '/v1/orders',
    upstream,
    stripPrefix: '/v1',
    scopes: { GET: 'orders:read' },
    timeoutMs: 2_000,
    maxBodyBytes: 1024,
    ...more,
  };
}

/** Sends one request with exactly these headers (fetch would refuse the hop-by-hop ones). */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | string[]; rawPath?: string } = {},
) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const { hostname, port, pathname, search } = new URL(url);
    const path = options.rawPath ?? `${pathname}${search}`;
    const req = request({ hostname, port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, async (res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
    });
    req.on('error', reject);
    for (const part of [options.body ?? []].flat()) req.write(part);
    req.end();
  });
}

/** Sends a request line byte for byte (node:http's `request` refuses some of these targets, fetch rewrites them); resolves with the status. */
function raw(url: string, target: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

describe('proxyHandler', () => {
  it('forwards method, path, query, body and headers, less hop-by-hop, credentials and forwarding claims, plus who asked and from where', async () => {
    const up = await backend();
    const at = await gateway(route(up.origin));
    const answer = await send(`${at}/v1/orders/o-7/lines?expand=sku&page=2`, {
      method: 'GET',
      headers: {
        connection: 'keep-alive, x-hop',
        'x-hop': 'for the next hop only',
        te: 'trailers',
        authorization: 'Bearer secret-token',
        cookie: 'session=secret',
        'x-junction-client': 'forged',
        'x-junction-scopes': 'orders:read orders:write notifications:pii',
        'x-request-id': 'req-123',
        'x-forwarded-for': '10.0.0.1',
        forwarded: 'for=10.0.0.2;proto=https',
        'x-real-ip': '10.0.0.3',
        accept: 'application/json',
        'x-custom': 'kept',
      },
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['x-backend']).toBe('orders');
    expect(answer.headers['x-backend-hop']).toBeUndefined();
    const [seen] = up.seen;
    expect(seen).toMatchObject({ method: 'GET', url: '/orders/o-7/lines?expand=sku&page=2' });
    const h = seen?.headers ?? {};
    // The gateway is the edge: what a caller says about earlier hops is not passed on as fact.
    for (const gone of ['x-hop', 'te', 'authorization', 'cookie', 'forwarded', 'x-real-ip']) expect(h[gone], gone).toBeUndefined();
    expect(h).toMatchObject({
      accept: 'application/json',
      'x-custom': 'kept',
      'x-junction-client': 'demo-client',
      // The token's scopes, never the caller's claim of them.
      'x-junction-scopes': 'orders:read',
      'x-request-id': 'req-123',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(at).host,
    });
    expect(JSON.parse(answer.body)).toMatchObject({ url: '/orders/o-7/lines?expand=sku&page=2' });
  });

  it('streams a POST body through, and keeps a base path the upstream has', async () => {
    const up = await backend();
    const at = await gateway(route(`${up.origin}/api/`, { stripPrefix: '/v1/orders' }));
    const answer = await send(`${at}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: ['{"id":', '"o-8"}'],
    });
    expect(answer.status).toBe(201);
    expect(up.seen[0]).toMatchObject({ method: 'POST', url: '/api/', body: '{"id":"o-8"}' });
  });

  it('sends an idempotent body again on a retry (it is held, not streamed)', async () => {
    const up = await backend((_, res, hit) => {
      res.writeHead(hit === 1 ? 503 : 200).end('ok');
    });
    const at = await gateway(route(up.origin));
    const answer = await send(`${at}/v1/orders/o-9`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"qty":2}' });
    expect(answer.status).toBe(200);
    expect(up.seen.map((s) => s.body)).toEqual(['{"qty":2}', '{"qty":2}']);
  });

  it('refuses a body over the route’s limit with 413, declared or streamed', async () => {
    const up = await backend();
    const at = await gateway(route(up.origin));
    const declared = await send(`${at}/v1/orders`, { method: 'POST', body: 'x'.repeat(2_000) });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ code: 'request.too-large' });
    expect(up.seen).toHaveLength(0);
    const streamed = await send(`${at}/v1/orders`, {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: ['x'.repeat(800), 'x'.repeat(800)],
    });
    expect(streamed.status).toBe(413);
  });

  it('answers 502 upstream.unavailable when the upstream is down', async () => {
    const gone = await listen(createServer());
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const at = await gateway(route(gone, { retries: 0 }));
    const answer = await send(`${at}/v1/orders/o-1`);
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'upstream.unavailable', retriable: true, instance: '/v1/orders/o-1' });
  });

  it('answers 504 timeout when the upstream is slower than the route allows', async () => {
    const up = await backend((_, res) => setTimeout(() => res.end('late'), 2_000));
    const at = await gateway(route(up.origin, { timeoutMs: 200 }));
    const answer = await send(`${at}/v1/orders/o-1`);
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'timeout' });
  });

  it('answers 503 with Retry-After while the upstream’s breaker is open, without calling it', async () => {
    const up = await backend((_, res) => {
      res.writeHead(503).end();
    });
    const client = createHttpClient({ defaults: { retries: 0, breaker: { failureThreshold: 2, openMs: 5_000 } } });
    const at = await gateway(route(up.origin), client);
    for (let i = 0; i < 2; i += 1) expect((await send(`${at}/v1/orders/o-1`)).status).toBe(502);
    const refused = await send(`${at}/v1/orders/o-1`);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'circuit.open' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(4);
    expect(up.seen).toHaveLength(2);
  });

  it('refuses dot segments, which could leave the prefix on the backend', async () => {
    const up = await backend();
    const at = await gateway(route(up.origin));
    const answer = await send(at, { rawPath: '/v1/orders/%2e%2e/admin' });
    expect(answer.status).toBe(400);
    expect(up.seen).toHaveLength(0);
  });

  it('refuses backslashes, raw or encoded: WHATWG URL reads them as / and would resolve the dots past the prefix', async () => {
    const up = await backend();
    const at = await gateway(route(up.origin));
    for (const target of ['/v1/orders/..\\..\\metrics', '/v1/orders/o-1\\..\\..\\admin', '/v1/orders/o\\1']) {
      expect(await raw(at, target), target).toBe(400);
    }
    for (const target of ['/v1/orders/..%5C..%5Cmetrics', '/v1/orders/..%5c..%5cmetrics', '/v1/orders/o%5C1']) {
      const answer = await send(at, { rawPath: target });
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body), target).toMatchObject({ code: 'request.invalid' });
    }
    expect(up.seen).toEqual([]);
  });

  it('refuses encoded dots and slashes, once or twice encoded, control characters and fragments', async () => {
    const up = await backend();
    const at = await gateway(route(up.origin));
    const targets = [
      '/v1/orders/.%2e/admin',
      '/v1/orders/%2E%2E/admin',
      '/v1/orders/o-1%2F..%2F..%2Fadmin',
      '/v1/orders/%252e%252e/admin',
      '/v1/orders/o-1%252f..%252f..%252fadmin',
      '/v1/orders/%255c',
      '/v1/orders/o-1%00.json',
      '/v1/orders/o-1#/../../admin',
    ];
    for (const target of targets) {
      const answer = await send(at, { rawPath: target });
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body), target).toMatchObject({ code: 'request.invalid' });
    }
    expect(up.seen).toEqual([]);
  });

  it('refuses any target whose resolved path is not under the route’s base on the upstream', async () => {
    const up = await backend();
    const at = await gateway(route(`${up.origin}/api`));
    // Matched by express (case-insensitive, absolute-form) but not by the prefix as written: they would leave /api/orders.
    expect(await raw(at, '/V1/ORDERS/o-1')).toBe(400);
    expect(await raw(at, 'http://elsewhere/v1/orders/o-1')).toBe(400);
    expect(up.seen).toEqual([]);
    expect((await send(`${at}/v1/orders/o-1?x=1`)).status).toBe(201);
    expect(up.seen.map((s) => s.url)).toEqual(['/api/orders/o-1?x=1']);
  });

  it('names only the route in 502, 504 and 503 answers, and logs the upstream’s details as the cause', async () => {
    const hidden = (body: string, upstream: string) => {
      const { port, pathname } = new URL(upstream);
      expect(body).not.toContain('127.0.0.1');
      expect(body).not.toContain(port);
      expect(body).not.toContain(pathname);
      expect(body).not.toContain('internal-api');
    };
    const logged: unknown[] = [];
    const gone = await listen(createServer());
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const down = `${gone}/internal-api`;
    const unavailable = await send(`${await gateway(route(down, { retries: 0 }), undefined, logged)}/v1/orders/o-1`);
    expect(unavailable.status).toBe(502);
    hidden(unavailable.body, down);
    expect(JSON.parse(unavailable.body)).toMatchObject({ code: 'upstream.unavailable', detail: expect.stringContaining('orders') });
    const error = logged[0] as (Error & { context: Record<string, unknown> }) | undefined;
    expect((error?.cause as Error | undefined)?.message).toContain(`${gone}/internal-api/orders/o-1`);
    // The JSON logger writes an error's own fields, not its message or cause: the context carries what operators need.
    expect(error?.context).toMatchObject({ route: 'orders', upstream: gone, path: '/internal-api/orders/o-1' });
    expect(error?.context.upstreamError).toContain(gone);

    const slow = await backend((_, res) => setTimeout(() => res.end('late'), 2_000));
    const late = `${slow.origin}/internal-api`;
    const timedOut = await send(`${await gateway(route(late, { timeoutMs: 200 }))}/v1/orders/o-1`);
    expect(timedOut.status).toBe(504);
    hidden(timedOut.body, late);
    expect(JSON.parse(timedOut.body)).toMatchObject({ code: 'timeout', detail: expect.stringContaining('orders') });

    const failing = await backend((_, res) => {
      res.writeHead(503).end();
    });
    const broken = `${failing.origin}/internal-api`;
    const client = createHttpClient({ defaults: { retries: 0, breaker: { failureThreshold: 1, openMs: 5_000 } } });
    const at = await gateway(route(broken), client);
    const first = await send(`${at}/v1/orders/o-1`);
    expect(first.status).toBe(502);
    hidden(first.body, broken);
    const paused = await send(`${at}/v1/orders/o-1`);
    expect(paused.status).toBe(503);
    hidden(paused.body, broken);
    expect(JSON.parse(paused.body)).toMatchObject({ code: 'circuit.open', detail: expect.stringMatching(/orders.* 5 s/) });
    expect(Number(paused.headers['retry-after'])).toBeGreaterThanOrEqual(4);
  });
});
