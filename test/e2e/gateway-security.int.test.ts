import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalCa, issueCertificate } from '@junction/stack';
import { generateKeyPair, SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../../packages/events/src/testing/samples.ts';
import { gatewaySuite, ORDER } from './gateway.calls.ts';

// The gateway's defences, against a real authorization server (oidc-provider): forged and
// broken tokens, scopes, rate limits, the route table's per-method scopes, TLS.

const suite = gatewaySuite();

describe('token attacks', () => {
  const attacks: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ['no token', async () => undefined, /access token is required/],
    [
      'alg none',
      async () => {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: suite.world().auth.issuer, aud: 'urn:junction:gateway', client_id: 'demo', scope: `events:${suite.world().ordersTopic}:write`, iat: now, exp: now + 300 })}.`;
      },
      /algorithm|well-formed/,
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const jwks = (await (await fetch(suite.world().auth.jwksUrl)).json()) as { keys: Array<Record<string, unknown>> };
        const publicKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
        return new SignJWT({ client_id: 'demo', scope: `events:${suite.world().ordersTopic}:write` })
          .setProtectedHeader({ alg: 'HS256', kid: String(jwks.keys[0]?.kid) })
          .setIssuer(suite.world().auth.issuer)
          .setAudience('urn:junction:gateway')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(publicKey);
      },
      /algorithm/,
    ],
    ['wrong issuer', () => suite.world().forge({ iss: 'http://evil.example' }), /\(iss\)/],
    ['wrong audience', () => suite.world().forge({ aud: 'urn:junction:other' }), /\(aud\)/],
    [
      'expired',
      () => suite.world().forge({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 600 }),
      /expired/,
    ],
    ['not yet valid', () => suite.world().forge({ nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    [
      'bad signature',
      async () => {
        const good = await suite.world().forge({});
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
        return new SignJWT({ client_id: 'demo', scope: `events:${suite.world().ordersTopic}:write` })
          .setProtectedHeader({ alg: 'ES256', kid: 'not-a-key-of-the-issuer' })
          .setIssuer(suite.world().auth.issuer)
          .setAudience('urn:junction:gateway')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(stranger.privateKey);
      },
      /kid/,
    ],
  ];

  it.each(attacks)('%s is a 401 problem with a challenge, and publishes nothing', async (_name, make, detail) => {
    const before = await suite.calls().ordersCount();
    const token = await make();
    const response = await suite.calls().publish(sampleEvent(ORDER), token ?? '');
    const body = await suite.calls().expectProblem(response, 401, 'auth.unauthenticated');
    expect(body.detail).toMatch(detail);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="junction"/);
    expect(await suite.calls().ordersCount()).toBe(before);
  });

  it('a token without the topic write scope is a 403 naming the scope', async () => {
    const ops = await suite.world().token('ops');
    const body = await suite.calls().expectProblem(await suite.calls().publish(sampleEvent(ORDER), ops), 403, 'auth.forbidden');
    expect(body.detail).toContain(`events:${suite.world().ordersTopic}:write`);
  });

  it('follows the issuer rotating its signing key', async () => {
    const { auth, token } = suite.world();
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()).kid as string;
    const newKid = await auth.rotateKeys();
    // Published at once, signing only after the activation delay (1 s here).
    const activatesAt = Date.parse(auth.keys().find((k) => k.kid === newKid)?.activatesAt ?? '');
    const early = await token('demo');
    if (Date.now() < activatesAt) expect(kidOf(early)).not.toBe(newKid);
    const deadline = Date.now() + 5000;
    while (auth.keys().find((k) => k.state === 'signing')?.kid !== newKid && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const fresh = await token('demo');
    expect(kidOf(fresh)).toBe(newKid);
    // No wait for the gateway's JWKS cooldown (500 ms): it could fetch the key before any token carried it.
    expect((await suite.calls().publish(sampleEvent(ORDER), fresh)).status).toBe(202);
    expect((await suite.calls().publish(sampleEvent(ORDER), early)).status).toBe(202);
    // Tokens of the previous key keep working until they expire.
    expect((await suite.calls().publish(sampleEvent(ORDER), suite.calls().demo)).status).toBe(202);
  });
});

describe('rate limits', () => {
  it('a flood gets 429 with Retry-After and RateLimit headers, then recovers', async () => {
    const limited = await suite.world().another({ JUNCTION_GATEWAY_RATE_LIMIT_BURST: '5', JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '5' });
    const flood = await suite.world().token('flood');
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
    await suite.calls().expectProblem(refused as Response, 429, 'rate.limited');
    // Another client is not affected.
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${suite.calls().demo}` } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${flood}` } })).status).toBe(200);
  });

  it('limits an address before its tokens are checked: a flood of garbage tokens gets 429', async () => {
    const limited = await suite
      .world()
      .another({ JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST: '5', JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND: '2' });
    const garbage = await suite.world().forge({}, { kid: 'no-such-key' });
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${garbage}${i}` } });
      statuses.push(response.status);
      if (response.status === 429 && !refused) refused = response;
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(refused?.headers.get('ratelimit-policy')).toBe('"ip";q=5;w=3');
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    await suite.calls().expectProblem(refused as Response, 429, 'rate.limited');
    // The address's bucket holds for good tokens too, until it refills.
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${suite.calls().demo}` } })).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await fetch(`${limited.url}/v1/event-types`, { headers: { authorization: `Bearer ${suite.calls().demo}` } })).status).toBe(200);
  });
});

describe('the route table', () => {
  it('forwards to a backend with the scope of each method, the caller named and its token withheld', async () => {
    const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
    const backend = createServer((req, res) => {
      // It does not describe itself: the gateway's document keeps a generic entry for it.
      if (req.url === '/openapi.json') {
        res.writeHead(404).end();
        return;
      }
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
    const gateway = await suite.world().another({ JUNCTION_GATEWAY_ROUTES: routes });
    const reader = await suite.world().token('reader');
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

    const document = (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    expect(Object.keys(document.paths)).toContain('/v1/shop/{path}');
    expect(document.paths['/v1/shop/{path}']?.get?.description).toContain('it answered 404');

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
    const secure = await suite.world().another({
      JUNCTION_GATEWAY_TLS_CERT_FILE: certificate.certFile,
      JUNCTION_GATEWAY_TLS_KEY_FILE: certificate.keyFile,
    });
    expect(secure.url).toMatch(/^https:/);
    const trusting = new Agent({ connect: { ca: await readFile(certificate.caFile) } });
    const response = await undiciFetch(`${secure.url}/v1/events/${ORDER}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.calls().demo}`, 'content-type': 'application/json' },
      body: JSON.stringify(sampleEvent(ORDER)),
      dispatcher: trusting,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    // A client that does not trust the local CA cannot talk to it.
    await expect(fetch(`${secure.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${secure.url.replace('https:', 'http:')}/healthz`)).rejects.toThrow();
    await trusting.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('the OpenAPI document', () => {
  it('matched every answer these tests checked: the refusals are documented', () => {
    expect(suite.calls().checkedStatuses()).toEqual(['401', '403', '429']);
  });
});
