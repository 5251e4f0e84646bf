import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalCa, issueCertificate } from '@junction/stack';
import { generateKeyPair, SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRecords, readRecords } from '../../packages/events/src/testing/contracts.ts';
import { sampleEvent, sampleOrderPlacedV1 } from '../../packages/events/src/testing/samples.ts';
import { type GatewayWorld, gatewayWorld } from './gateway.fixture.ts';
import { OpenApiCheck } from './openapi-check.ts';

// A real authorization server (oidc-provider) and the gateway, in this process, publishing to
// the test stack's Kafka and registry (a private copy of the topics).

const ORDER = 'com.junction.orders.OrderPlaced';
let world: GatewayWorld;
let demo: string;
let openapi: OpenApiCheck;

beforeAll(async () => {
  world = await gatewayWorld();
  demo = await world.token('demo');
  const document = await fetch(`${world.gateway.url}/v1/openapi.json`);
  expect(document.status).toBe(200);
  openapi = new OpenApiCheck((await document.json()) as Record<string, unknown>);
});

/** Every answer the tests look at is checked against the OpenAPI document too. */
const methods = new WeakMap<Response, string>();

async function documentedJson(response: Response): Promise<unknown> {
  const body = await response.json();
  const problems = openapi.problems(
    methods.get(response) ?? 'GET',
    response.url,
    response.status,
    response.headers.get('content-type'),
    body,
  );
  expect(problems, `the answer to ${response.url} differs from /v1/openapi.json`).toEqual([]);
  return body;
}

afterAll(async () => {
  await world?.close();
});

async function post(path: string, init: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${world.gateway.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    body: init.raw ?? JSON.stringify(init.body ?? {}),
    signal: AbortSignal.timeout(15_000),
  });
  methods.set(response, 'POST');
  return response;
}

const publish = (body: unknown, token: string | undefined = demo, headers: Record<string, string> = {}) =>
  post(`/v1/events/${ORDER}`, { ...(token ? { token } : {}), body, headers });

/** Every record of the private orders topic so far. */
async function ordersRecords() {
  return readRecords(world.contracts.kafka, [world.ordersTopic], await countRecords(world.contracts.admin, [world.ordersTopic]));
}

async function expectProblem(response: Response, status: number, code: string, inTheApi = true) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await (inTheApi ? documentedJson(response) : response.json())) as {
    code: string;
    status: number;
    detail: string;
    errors?: Array<{ path: string; message: string }>;
  };
  expect(body).toMatchObject({ status, code });
  return body;
}

describe('publishing events over HTTP', () => {
  it('answers 202 with the event id once Kafka has the event, on the topic with its key', async () => {
    const order = sampleEvent(ORDER);
    const response = await publish(order);
    expect(response.status).toBe(202);
    const accepted = (await documentedJson(response)) as { id: string; type: string; topic: string; partition: number; offset: string };
    expect(accepted).toMatchObject({ type: `${ORDER}.v2`, topic: world.ordersTopic });
    const records = await ordersRecords();
    const record = records.find((r) => r.headers.ce_id === accepted.id) ?? expect.unreachable('the event is not on the topic');
    expect(record.key).toBe(order.orderId);
    expect(String(record.offset)).toBe(accepted.offset);
    expect(record.headers['junction.client-id']).toBe('demo');
    expect(record.headers.ce_source).toBe('/junction/gateway');
  });

  it('publishes an older version when the request names it', async () => {
    const response = await post(`/v1/events/${ORDER}?version=1`, {
      token: demo,
      body: sampleOrderPlacedV1(),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ type: `${ORDER}.v1` });
  });

  it('answers 400 naming every failing field path, and publishes nothing', async () => {
    const before = await countRecords(world.contracts.admin, [world.ordersTopic]);
    const order = { ...sampleEvent(ORDER), total: 12.5, customerId: 'not-a-uuid', surprise: true } as Record<string, unknown>;
    delete order.currency;
    const body = await expectProblem(await publish(order), 400, 'event.invalid');
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['currency', 'customerId', 'surprise', 'total']);
    expect(body.errors?.find((e) => e.path === 'total')?.message).toMatch(/decimal string/);
    expect(await countRecords(world.contracts.admin, [world.ordersTopic])).toBe(before);
  });

  it('answers 400 for a body that is not JSON, 413 for one too large, 415 for another type', async () => {
    await expectProblem(await post(`/v1/events/${ORDER}`, { token: demo, raw: '{"orderId":' }), 400, 'request.invalid');
    const huge = { ...sampleEvent(ORDER), couponCode: 'x'.repeat(20_000) };
    const tooLarge = await expectProblem(await publish(huge), 413, 'request.too-large');
    expect(tooLarge.detail).toContain('16384');
    await expectProblem(
      await post(`/v1/events/${ORDER}`, { token: demo, raw: '<order/>', headers: { 'content-type': 'application/xml' } }),
      415,
      'request.unsupported-type',
    );
  });

  it('answers 404 for an event type the gateway does not publish', async () => {
    await expectProblem(await post('/v1/events/com.junction.inventory.StockReserved', { token: demo, body: {} }), 404, 'route.unknown');
    await expectProblem(await post('/v1/events/com.example.Nope', { token: demo, body: {} }), 404, 'route.unknown');
  });

  it('lists the event types with the scope each needs and whether the caller holds it', async () => {
    const response = await fetch(`${world.gateway.url}/v1/event-types`, { headers: { authorization: `Bearer ${demo}` } });
    expect(response.status).toBe(200);
    const { eventTypes } = (await documentedJson(response)) as { eventTypes: Array<{ type: string; scope: string; allowed: boolean }> };
    expect(eventTypes.map((e) => e.type).sort()).toEqual(['com.junction.orders.OrderCancelled', ORDER]);
    expect(eventTypes.every((e) => e.allowed && e.scope === `events:${world.ordersTopic}:write`)).toBe(true);
  });
});

describe('backpressure', () => {
  it("turns the publisher's backpressure into 503 with Retry-After, and loses nothing it accepted", async () => {
    // 64 KiB in flight at most, and no waiting for room: 40 events of ~12 KB at once cannot all fit.
    const tight = await world.another({ JUNCTION_GATEWAY_MAX_IN_FLIGHT_BYTES: '65536', JUNCTION_GATEWAY_BACKPRESSURE_TIMEOUT_MS: '0' });
    const before = await countRecords(world.contracts.admin, [world.ordersTopic]);
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${tight.url}/v1/events/${ORDER}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${demo}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...sampleEvent(ORDER), couponCode: 'c'.repeat(12_000) }),
        }),
      ),
    );
    const busy = responses.filter((r) => r.status === 503);
    const accepted = responses.filter((r) => r.status === 202);
    expect(busy.length).toBeGreaterThan(0);
    expect(accepted.length + busy.length).toBe(40);
    expect(busy[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
    methods.set(busy[0] as Response, 'POST');
    expect(await documentedJson(busy[0] as Response)).toMatchObject({ code: 'publisher.backpressure', retriable: true });
    // Every 202 is on the topic; no 503 is.
    await expect.poll(() => countRecords(world.contracts.admin, [world.ordersTopic]), { timeout: 10_000 }).toBe(before + accepted.length);
  });
});

describe('Idempotency-Key', () => {
  it('gives a retry the first answer and leaves one event on the topic', async () => {
    const order = sampleEvent(ORDER);
    const key = `order-${randomUUID()}`;
    const first = await publish(order, demo, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const firstBody = await documentedJson(first);
    const again = await publish(order, demo, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(firstBody);
    const records = await ordersRecords();
    expect(records.filter((r) => r.key === order.orderId)).toHaveLength(1);
  });

  it('refuses the same key with a different body (422), and a malformed key (400)', async () => {
    const key = `order-${randomUUID()}`;
    expect((await publish(sampleEvent(ORDER), demo, { 'idempotency-key': key })).status).toBe(202);
    await expectProblem(await publish(sampleEvent(ORDER), demo, { 'idempotency-key': key }), 422, 'idempotency.conflict');
    await expectProblem(await publish(sampleEvent(ORDER), demo, { 'idempotency-key': 'a b' }), 400, 'request.invalid');
  });

  it('keeps keys per client: another client with the same key publishes its own event', async () => {
    const key = `shared-${randomUUID()}`;
    const order = sampleEvent(ORDER);
    const a = (await (await publish(order, demo, { 'idempotency-key': key })).json()) as { id: string };
    const flood = await world.token('flood');
    const b = (await (await publish(order, flood, { 'idempotency-key': key })).json()) as { id: string };
    expect(b.id).not.toBe(a.id);
  });
});

describe('token attacks', () => {
  const attacks: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ['no token', async () => undefined, /access token is required/],
    [
      'alg none',
      async () => {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: world.auth.issuer, aud: 'urn:junction:gateway', client_id: 'demo', scope: `events:${world.ordersTopic}:write`, iat: now, exp: now + 300 })}.`;
      },
      /algorithm|well-formed/,
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const jwks = (await (await fetch(world.auth.jwksUrl)).json()) as { keys: Array<Record<string, unknown>> };
        const publicKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
        return new SignJWT({ client_id: 'demo', scope: `events:${world.ordersTopic}:write` })
          .setProtectedHeader({ alg: 'HS256', kid: String(jwks.keys[0]?.kid) })
          .setIssuer(world.auth.issuer)
          .setAudience('urn:junction:gateway')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(publicKey);
      },
      /algorithm/,
    ],
    ['wrong issuer', () => world.forge({ iss: 'http://evil.example' }), /\(iss\)/],
    ['wrong audience', () => world.forge({ aud: 'urn:junction:other' }), /\(aud\)/],
    ['expired', () => world.forge({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 600 }), /expired/],
    ['not yet valid', () => world.forge({ nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    [
      'bad signature',
      async () => {
        const good = await world.forge({});
        const [header, payload, signature] = good.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        const widened = Buffer.from(JSON.stringify({ ...claims, scope: `${claims.scope} admin` })).toString('base64url');
        return `${header}.${widened}.${signature}`;
      },
      /signature/,
    ],
    [
      'unknown kid',
      async () => {
        const stranger = await generateKeyPair('ES256');
        return new SignJWT({ client_id: 'demo', scope: `events:${world.ordersTopic}:write` })
          .setProtectedHeader({ alg: 'ES256', kid: 'not-a-key-of-the-issuer' })
          .setIssuer(world.auth.issuer)
          .setAudience('urn:junction:gateway')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(stranger.privateKey);
      },
      /kid/,
    ],
  ];

  it.each(attacks)('%s is a 401 problem with a challenge, and publishes nothing', async (_name, make, detail) => {
    const before = await countRecords(world.contracts.admin, [world.ordersTopic]);
    const token = await make();
    const response = await publish(sampleEvent(ORDER), token ?? '');
    const body = await expectProblem(response, 401, 'auth.unauthenticated');
    expect(body.detail).toMatch(detail);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="junction"/);
    expect(await countRecords(world.contracts.admin, [world.ordersTopic])).toBe(before);
  });

  it('a token without the topic write scope is a 403 naming the scope', async () => {
    const ops = await world.token('ops');
    const body = await expectProblem(await publish(sampleEvent(ORDER), ops), 403, 'auth.forbidden');
    expect(body.detail).toContain(`events:${world.ordersTopic}:write`);
  });

  it('follows the issuer rotating its signing key', async () => {
    await world.auth.rotateKeys();
    // The gateway fetches the JWKS again for an unknown kid at most once per cooldown (500 ms here).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const fresh = await world.token('demo');
    expect(JSON.parse(Buffer.from(fresh.split('.')[0] as string, 'base64url').toString()).kid).toBe(
      world.auth.keys().find((k) => k.state === 'signing')?.kid,
    );
    expect((await publish(sampleEvent(ORDER), fresh)).status).toBe(202);
    // Tokens of the previous key keep working until they expire.
    expect((await publish(sampleEvent(ORDER), demo)).status).toBe(202);
  });
});

describe('rate limits', () => {
  it('a flood gets 429 with Retry-After and RateLimit headers, then recovers', async () => {
    const limited = await world.another({ JUNCTION_GATEWAY_RATE_LIMIT_BURST: '5', JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '5' });
    const flood = await world.token('flood');
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${flood}` } });
      statuses.push(response.status);
      if (response.status === 429 && !refused) refused = response;
      else await response.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses).toContain(429);
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused?.headers.get('ratelimit-policy')).toBe('"client";q=5;w=1');
    expect(refused?.headers.get('ratelimit')).toMatch(/^"client";r=0;t=\d+$/);
    await expectProblem(refused as Response, 429, 'rate.limited');
    // Another client is not affected.
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${demo}` } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${flood}` } })).status).toBe(200);
  });
});

describe('operations', () => {
  it('serves health, readiness and metrics without a token, with security headers and request ids', async () => {
    expect((await fetch(`${world.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${world.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { kafka: { ok: true }, registry: { ok: true } } });
    const response = await fetch(`${world.gateway.url}/nothing`, { headers: { 'x-request-id': 'req-42' } });
    await expectProblem(response, 404, 'route.unknown', false);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(response.headers.get('strict-transport-security')).toBeTruthy();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('the route table', () => {
  it('forwards to a backend with the scope of each method, the caller named and its token withheld', async () => {
    const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
    const backend = createServer((req, res) => {
      seen.push({ method: req.method as string, url: req.url as string, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: ['a', 'b'] }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'junction-routes-'));
    const routes = join(dir, 'routes.yaml');
    const port = (backend.address() as AddressInfo).port;
    await writeFile(
      routes,
      `routes:\n  - name: shop\n    prefix: /v1/shop\n    upstream: http://127.0.0.1:${port}\n    stripPrefix: /v1\n    timeoutMs: 2000\n    scopes:\n      GET: shop:read\n      POST: shop:write\n`,
    );
    const gateway = await world.another({ JUNCTION_GATEWAY_ROUTES: routes });
    const reader = await world.token('reader');
    const get = (path: string, token?: string, method = 'GET') =>
      fetch(`${gateway.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

    const ok = await get('/v1/shop/items?colour=red', reader);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: ['a', 'b'] });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/shop/items?colour=red' });
    expect(seen[0]?.headers['x-junction-client']).toBe('reader');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.headers['x-request-id']).toBe(ok.headers.get('x-request-id'));

    const document = (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toContain('/v1/shop/{path}');

    expect((await get('/v1/shop/items')).status).toBe(401);
    const post = await get('/v1/shop/items', reader, 'POST');
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ code: 'auth.forbidden', detail: expect.stringContaining('shop:write') });
    const remove = await get('/v1/shop/items', reader, 'DELETE');
    expect(remove.status).toBe(405);
    expect(remove.headers.get('allow')).toBe('GET, POST');
    expect(seen).toHaveLength(1);

    await new Promise<void>((resolve) => backend.close(() => resolve()));
    const down = await get('/v1/shop/items', reader);
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ code: 'upstream.unavailable', retriable: true });
    await rm(dir, { recursive: true, force: true });
  });
});

describe('HTTPS', () => {
  it('serves the API over TLS with a certificate of the local CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-gateway-tls-'));
    const ca = await ensureLocalCa(dir);
    const certificate = await issueCertificate({ ca, dir, name: 'gateway', hosts: ['127.0.0.1', 'localhost'] });
    const secure = await world.another({
      JUNCTION_GATEWAY_TLS_CERT_FILE: certificate.certFile,
      JUNCTION_GATEWAY_TLS_KEY_FILE: certificate.keyFile,
    });
    expect(secure.url).toMatch(/^https:/);
    const trusting = new Agent({ connect: { ca: await (await import('node:fs/promises')).readFile(certificate.caFile) } });
    const response = await undiciFetch(`${secure.url}/v1/events/${ORDER}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo}`, 'content-type': 'application/json' },
      body: JSON.stringify(sampleEvent(ORDER)),
      dispatcher: trusting,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    // A client that does not trust the local CA cannot talk to it.
    await expect(fetch(`${secure.url}/healthz`)).rejects.toThrow();
    await expect(fetch(secure.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
    await trusting.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('the OpenAPI document', () => {
  it('describes request bodies as the gateway validates them', () => {
    const path = `/v1/events/${ORDER}`;
    // As JSON travels: dates become ISO strings.
    const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    expect(openapi.requestProblems('POST', path, json(sampleEvent(ORDER)))).toEqual([]);
    expect(openapi.requestProblems('POST', path, json(sampleOrderPlacedV1()))).toEqual([]);
    const { currency: _currency, ...missing } = json(sampleEvent(ORDER));
    expect(openapi.requestProblems('POST', path, { ...missing, total: 12.5, surprise: true }).length).toBeGreaterThan(0);
  });

  it('matched every answer the tests checked, across the statuses the gateway gives', () => {
    const statuses = new Set([...openapi.checked].map((entry) => entry.split(' ').at(-1)));
    expect([...statuses].sort()).toEqual(['200', '202', '400', '401', '403', '404', '413', '415', '422', '429', '503']);
  });
});
