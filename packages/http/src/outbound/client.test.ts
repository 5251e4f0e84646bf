import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpClientCalled, JunctionError, telemetry } from '@junction/observability';
import { type Context, type ContextManager, context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from './client.ts';
import type { HttpClientOptions } from './options.ts';

/** A real upstream on 127.0.0.1:0 that answers each hit with `answer(hit number, request, response)` and records when hits came. */
async function upstream(answer: (hit: number, req: IncomingMessage, res: ServerResponse) => void) {
  const hits: { at: number; method: string; headers: IncomingMessage['headers'] }[] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ at: performance.now(), method: req.method ?? '', headers: req.headers });
    req.resume();
    answer(hits.length, req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { origin, hits, server };
}

const servers: Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const server of servers.splice(0)) server.closeAllConnections();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const fast = { initialMs: 20, multiplier: 2, maxMs: 1_000, jitter: 0 };
function client(defaults: HttpClientOptions['defaults'] = {}, more: Omit<HttpClientOptions, 'defaults'> = {}): HttpClient {
  const made = createHttpClient({ defaults: { backoff: fast, ...defaults }, ...more });
  clients.push(made);
  return made;
}
const status =
  (code: number, headers: Record<string, string> = {}) =>
  (_: number, __: IncomingMessage, res: ServerResponse) => {
    res.writeHead(code, headers).end(`status ${code}`);
  };
const failure = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: unknown) => error as JunctionError,
  );

describe('createHttpClient', () => {
  it('times out a slow upstream with a timeout error naming where, not how (no query)', async () => {
    const up = await upstream((_, __, res) => setTimeout(() => res.end('late'), 2_000));
    const started = performance.now();
    const error = await failure(client({ timeoutMs: 200 }).request({ method: 'GET', url: `${up.origin}/slow?token=secret` }));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({ code: 'timeout', retriable: true, context: { upstream: up.origin, method: 'GET', path: '/slow' } });
    expect(JSON.stringify(error.context)).not.toContain('secret');
  });

  it('a headers timeout ends an attempt, and an idempotent request tries again', async () => {
    const up = await upstream((hit, _, res) => (hit === 1 ? setTimeout(() => res.end('late'), 1_000) : res.end('ok')));
    const answer = await client({ headersTimeoutMs: 100, timeoutMs: 3_000 }).request({ method: 'GET', url: `${up.origin}/` });
    expect(await answer.text()).toBe('ok');
    expect(up.hits).toHaveLength(2);
  });

  it('retries a GET answered 503 until it succeeds', async () => {
    const up = await upstream((hit, req, res) => (hit < 3 ? status(503)(hit, req, res) : res.end('fine')));
    const answer = await client({ retries: 3 }).request({ method: 'GET', url: `${up.origin}/orders/1` });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('fine');
    expect(answer.attempts).toBe(3);
    expect(up.hits).toHaveLength(3);
  });

  it('never retries a POST without an idempotency key once it may have reached the upstream (503, reset)', async () => {
    const unavailable = await upstream(status(503));
    const error = await failure(client({ retries: 3 }).request({ method: 'POST', url: `${unavailable.origin}/orders`, body: '{}' }));
    expect(error).toMatchObject({ code: 'upstream.unavailable', context: { status: 503, attempts: 1 } });
    expect(unavailable.hits).toHaveLength(1);

    const reset = await upstream((_, req) => req.socket.destroy());
    const cut = await failure(client({ retries: 3 }).request({ method: 'POST', url: `${reset.origin}/orders`, body: '{}' }));
    expect(cut).toMatchObject({ code: 'upstream.unavailable', retriable: true });
    expect(reset.hits).toHaveLength(1);
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    const up = await upstream((hit, req, res) => (hit === 1 ? status(503)(hit, req, res) : res.end('created')));
    const answer = await client({ retries: 2 }).request({
      method: 'POST',
      url: `${up.origin}/orders`,
      headers: { 'Idempotency-Key': 'k-1', 'content-type': 'application/json' },
      body: '{"id":1}',
    });
    expect(answer.status).toBe(200);
    expect(up.hits.map((h) => h.headers['idempotency-key'])).toEqual(['k-1', 'k-1']);
  });

  it('retries any request, POST too, when the connection was refused: it never left', async () => {
    const gone = await upstream(status(200));
    gone.server.close();
    await once(gone.server, 'close');
    const error = await failure(client({ retries: 2 }).request({ method: 'POST', url: `${gone.origin}/orders`, body: '{}' }));
    expect(error).toMatchObject({ code: 'upstream.unavailable', context: { attempts: 3 } });
  });

  it('bounds retries and backs off more each time', async () => {
    const up = await upstream(status(503));
    const error = await failure(
      client({ retries: 3, backoff: { initialMs: 60, multiplier: 2, maxMs: 1_000, jitter: 0 } }).request({
        method: 'GET',
        url: `${up.origin}/`,
      }),
    );
    expect(error).toMatchObject({ code: 'upstream.unavailable', context: { attempts: 4 } });
    expect(up.hits).toHaveLength(4);
    const gaps = up.hits.slice(1).map((hit, i) => hit.at - (up.hits[i]?.at ?? 0));
    // 60, 120, 240 ms asked for; timers may run late, never early
    expect(gaps[0]).toBeGreaterThanOrEqual(55);
    expect(gaps[1]).toBeGreaterThanOrEqual(115);
    expect(gaps[2]).toBeGreaterThanOrEqual(235);
    expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);
    expect(gaps[2]).toBeGreaterThan(gaps[1] ?? 0);
  });

  it('waits what Retry-After asks on 429, and returns the 429 when it asks longer than the cap', async () => {
    const up = await upstream((hit, req, res) => (hit === 1 ? status(429, { 'retry-after': '1' })(hit, req, res) : res.end('ok')));
    const answer = await client({ retries: 2, maxRetryAfterMs: 2_000 }).request({ method: 'GET', url: `${up.origin}/` });
    expect(answer.status).toBe(200);
    expect((up.hits[1]?.at ?? 0) - (up.hits[0]?.at ?? 0)).toBeGreaterThanOrEqual(990);

    const patient = await upstream(status(429, { 'retry-after': '30' }));
    const refused = await client({ retries: 2, maxRetryAfterMs: 2_000 }).request({ method: 'GET', url: `${patient.origin}/` });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(patient.hits).toHaveLength(1);
  });

  it('opens the breaker after N failures, fails fast without calling, then a probe after openMs closes it', async () => {
    let healthy = false;
    const up = await upstream((hit, req, res) => (healthy ? res.end('back') : status(503)(hit, req, res)));
    const changes: string[] = [];
    const c = client({ retries: 0, breaker: { failureThreshold: 3, openMs: 300 } }, { onCircuitChange: (_, state) => changes.push(state) });
    for (let i = 0; i < 3; i += 1)
      expect(await failure(c.request({ method: 'GET', url: `${up.origin}/` }))).toMatchObject({ code: 'upstream.unavailable' });
    expect(c.circuitState(up.origin)).toBe('open');
    const started = performance.now();
    const refused = await failure(c.request({ method: 'GET', url: `${up.origin}/` }));
    expect(performance.now() - started).toBeLessThan(50);
    expect(refused).toMatchObject({ code: 'circuit.open', retriable: true, context: { upstream: up.origin } });
    expect(refused.context.retryAfterMs).toBeGreaterThan(0);
    expect(refused.context.retryAfterMs).toBeLessThanOrEqual(300);
    expect(up.hits).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(c.circuitState(up.origin)).toBe('half-open');
    healthy = true;
    expect(await (await c.request({ method: 'GET', url: `${up.origin}/` })).text()).toBe('back');
    expect(c.circuitState(up.origin)).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('refuses a response body over maxResponseBytes, declared or streamed', async () => {
    const declared = await upstream((_, __, res) => res.writeHead(200, { 'content-length': '4096' }).end('x'.repeat(4096)));
    const c = client({ maxResponseBytes: 1024 });
    expect(await failure(c.request({ method: 'GET', url: `${declared.origin}/` }))).toMatchObject({
      code: 'upstream.unavailable',
      retriable: false,
      context: { maxResponseBytes: 1024 },
    });
    const streamed = await upstream((_, __, res) => {
      res.write('x'.repeat(800));
      setTimeout(() => res.end('x'.repeat(800)), 20);
    });
    const answer = await c.request({ method: 'GET', url: `${streamed.origin}/` });
    expect(await failure(answer.text())).toMatchObject({ code: 'upstream.unavailable', retriable: false });
  });

  it('sends the active traceparent, and reports each call on the telemetry channel', async () => {
    const up = await upstream(status(204));
    const calls: HttpClientCalled[] = [];
    const listen = (m: HttpClientCalled) => calls.push(m);
    telemetry.httpClientCalled.subscribe(listen);
    const storage = new AsyncLocalStorage<Context>();
    const manager: ContextManager = {
      active: () => storage.getStore() ?? ROOT_CONTEXT,
      with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
      bind: (_, target) => target,
      enable: () => manager,
      disable: () => manager,
    };
    context.setGlobalContextManager(manager);
    try {
      const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
      const answer = await context.with(trace.setSpanContext(ROOT_CONTEXT, span), () =>
        client().request({ method: 'DELETE', url: `${up.origin}/orders/1` }),
      );
      expect(answer.status).toBe(204);
      expect(up.hits[0]?.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    } finally {
      context.disable();
      telemetry.httpClientCalled.unsubscribe(listen);
    }
    expect(calls).toEqual([expect.objectContaining({ upstream: up.origin, method: 'DELETE', status: 204, outcome: 'ok', attempts: 1 })]);
  });

  it('reports every problem of its options at once', () => {
    expect(() => createHttpClient({ defaults: { timeoutMs: -1, retries: 99 }, upstreams: { 'not a url': {} } })).toThrow(
      /defaults\.timeoutMs.*defaults\.retries.*upstreams/,
    );
  });
});
