import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { problemHandler } from '../problem.ts';
import { bearerAuth, tokenScopes } from './bearer.ts';
import { requireScope } from './scope.ts';

const ISSUER = 'http://issuer.test';
const AUDIENCE = 'urn:junction:gateway';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

/** A JWKS endpoint of our own that serves whichever keys a test publishes, counting fetches. */
class JwksServer {
  published: JWK[] = [];
  fetches = 0;
  server: Server = createServer((_req, res) => {
    this.fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.published }));
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks`;
  }
}

async function publicJwk(keys: Keys, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(keys.publicKey)), kid, alg, use: 'sig' };
}

function token(claims: Record<string, unknown> = {}) {
  return new SignJWT({ client_id: 'demo', scope: 'events:orders.order:write', ...claims })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m');
}

describe('bearerAuth', () => {
  const jwks = new JwksServer();
  let es: Keys;
  let rotated: Keys;
  let base: string;
  let app: Server;

  beforeAll(async () => {
    es = await generateKeyPair('ES256', { extractable: true });
    rotated = await generateKeyPair('ES256', { extractable: true });
    await new Promise<void>((resolve) => jwks.server.listen(0, '127.0.0.1', resolve));
    const web = express();
    web.use(bearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url, clockToleranceSec: 5, jwksCooldownMs: 0 }));
    web.get('/who', (req, res) => {
      res.json({ client: req.auth?.clientId, scopes: [...(req.auth?.scopes ?? [])] });
    });
    web.get('/read', requireScope('events:orders.order:read'), (_req, res) => {
      res.json({ ok: true });
    });
    web.use(problemHandler());
    app = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => app.once('listening', resolve));
    base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });

  beforeEach(async () => {
    jwks.published = [await publicJwk(es, 'k1', 'ES256')];
  });

  afterAll(() => {
    app.close();
    jwks.server.close();
  });

  const call = (bearer?: string, path = '/who') =>
    fetch(`${base}${path}`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });

  async function expectRefused(response: Response, detail: RegExp) {
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="junction", error="invalid_token"/);
    const body = (await response.json()) as { detail: string };
    expect(body).toMatchObject({ status: 401, code: 'auth.unauthenticated', retriable: false });
    expect(body.detail).toMatch(detail);
  }

  it('lets a valid token through and sets the caller and its scopes', async () => {
    const response = await call(await token().setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ client: 'demo', scopes: ['events:orders.order:write'] });
  });

  it('asks for a token when none is sent, with a bare challenge', async () => {
    const response = await call();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="junction"');
    expect(await response.json()).toMatchObject({ code: 'auth.unauthenticated' });
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const response = await fetch(`${base}/who`, { headers: { authorization: 'Basic ZGVtbzpzZWNyZXQ=' } });
    await expectRefused(response, /must be "Bearer <token>"/);
  });

  it('refuses alg none', async () => {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: ISSUER, aud: AUDIENCE, client_id: 'demo', scope: 'events:orders.order:read', iat: now, exp: now + 300 })}.`;
    await expectRefused(await call(unsigned), /algorithm|well-formed/);
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const jwk = await publicJwk(es, 'k1', 'ES256');
    const secret = new TextEncoder().encode(JSON.stringify(jwk));
    const forged = await token().setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(secret);
    await expectRefused(await call(forged), /algorithm/);
  });

  it('refuses a token of another issuer', async () => {
    const forged = await token().setIssuer('http://evil.test').setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey);
    await expectRefused(await call(forged), /\(iss\)/);
  });

  it('refuses a token meant for another audience', async () => {
    const other = await token().setAudience('urn:other').setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey);
    await expectRefused(await call(other), /\(aud\)/);
  });

  it('refuses an expired token, beyond the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await token()
      .setIssuedAt(now - 600)
      .setExpirationTime(now - 60)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(es.privateKey);
    await expectRefused(await call(expired), /expired/);
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await token()
      .setIssuedAt(now - 300)
      .setExpirationTime(now - 2)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(es.privateKey);
    expect((await call(justExpired)).status).toBe(200);
  });

  it('refuses a token not valid yet', async () => {
    const early = await token()
      .setNotBefore(Math.floor(Date.now() / 1000) + 120)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(es.privateKey);
    await expectRefused(await call(early), /not valid yet/);
  });

  it('refuses a token without an expiry', async () => {
    const forever = await new SignJWT({ client_id: 'demo' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(es.privateKey);
    await expectRefused(await call(forever), /exp/);
  });

  it('refuses a bad signature', async () => {
    const signed = await token().setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey);
    const [header, payload] = signed.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), scope: 'admin' })).toString('base64url')}.${signed.split('.')[2]}`;
    await expectRefused(await call(tampered), /signature/);
  });

  it('refuses a token signed by a key the issuer never published (unknown kid), after one refresh', async () => {
    const before = jwks.fetches;
    const stranger = await token().setProtectedHeader({ alg: 'ES256', kid: 'nobody' }).sign(rotated.privateKey);
    await expectRefused(await call(stranger), /kid/);
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it('follows a key rotation: a new kid makes one JWKS fetch, then verifies', async () => {
    // Warm the cache with k1 only.
    expect((await call(await token().setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey))).status).toBe(200);
    jwks.published = [await publicJwk(rotated, 'k2', 'ES256'), await publicJwk(es, 'k1', 'ES256')];
    const before = jwks.fetches;
    const fresh = await token().setProtectedHeader({ alg: 'ES256', kid: 'k2' }).sign(rotated.privateKey);
    expect((await call(fresh)).status).toBe(200);
    expect(jwks.fetches - before).toBe(1);
    expect((await call(fresh)).status).toBe(200);
    expect(jwks.fetches - before).toBe(1);
  });

  it('answers 403 naming the scope a token lacks', async () => {
    const response = await call(await token().setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey), '/read');
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="events:orders.order:read"');
    expect(await response.json()).toMatchObject({ code: 'auth.forbidden', detail: expect.stringContaining('events:orders.order:read') });
  });
});

describe('bearerAuth remembering verified tokens', () => {
  it('lets a remembered token through only until it expires, and remembers nothing that failed', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwk = await publicJwk(keys, 'k1', 'ES256');
    let checks = 0;
    const web = express();
    web.use(
      bearerAuth({
        issuer: ISSUER,
        audience: AUDIENCE,
        clockToleranceSec: 0,
        keys: async (header) => {
          checks += 1;
          if (header?.kid !== 'k1') throw new (await import('jose')).errors.JWKSNoMatchingKey();
          return (await import('jose')).importJWK(jwk, 'ES256') as never;
        },
      }),
    );
    web.get('/who', (req, res) => {
      res.json({ client: req.auth?.clientId });
    });
    web.use(problemHandler());
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/who`;
    const call = (jwt: string) => fetch(url, { headers: { authorization: `Bearer ${jwt}` } });

    const now = Math.floor(Date.now() / 1000);
    const shortLived = await token()
      .setIssuedAt(now)
      .setExpirationTime(now + 2)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(keys.privateKey);
    expect((await call(shortLived)).status).toBe(200);
    expect((await call(shortLived)).status).toBe(200);
    expect(checks).toBe(1);
    // Tampered: another text, so it is verified (and refused), not taken from memory.
    const [h, p, s] = shortLived.split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), client_id: 'admin' })).toString(
      'base64url',
    );
    expect((await call(`${h}.${widened}.${s}`)).status).toBe(401);
    expect(checks).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 - Date.now() + 50));
    const expired = await call(shortLived);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ detail: expect.stringMatching(/expired/) });
    server.close();
  });
});

describe('bearerAuth when the issuer is away', () => {
  it('answers 502 (upstream.unavailable), not 401: the token may be fine', async () => {
    const web = express();
    web.use(bearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:9/jwks', jwksTimeoutMs: 500 }));
    web.get('/who', (_req, res) => {
      res.json({});
    });
    web.use(problemHandler());
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const keys = await generateKeyPair('ES256');
    const signed = await token().setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(keys.privateKey);
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/who`, {
      headers: { authorization: `Bearer ${signed}` },
    });
    server.close();
    expect(response.status).toBe(502);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ code: 'upstream.unavailable', retriable: true });
  });

  it('refuses options that would accept symmetric or missing signatures', () => {
    expect(() => bearerAuth({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] })).toThrow(/asymmetric algorithm/);
    expect(() => bearerAuth({ issuer: 'not a url', audience: '', algorithms: ['none'] })).toThrow(/issuer.*audience.*algorithms/s);
  });
});

describe('tokenScopes', () => {
  it('reads OAuth scope, and scp as an array or a space-separated string (Entra ID)', () => {
    expect([...tokenScopes({ scope: 'a b  c' })]).toEqual(['a', 'b', 'c']);
    expect([...tokenScopes({ scp: ['a', 'b', 3] })]).toEqual(['a', 'b']);
    expect([...tokenScopes({ scp: 'orders.write  orders.read' })]).toEqual(['orders.write', 'orders.read']);
    expect(tokenScopes({}).size).toBe(0);
  });
});

describe('bearerAuth with the JWKS discovered from the issuer', () => {
  it('fetches <issuer>/.well-known/openid-configuration once, on first use, and uses its jwks_uri', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwk = await publicJwk(keys, 'd1', 'ES256');
    let discoveryUp = false;
    let namedIssuer: string | undefined;
    const hits = { discovery: 0, jwks: 0 };
    const issuerServer = createServer((req, res) => {
      const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
      if (req.url === '/.well-known/openid-configuration') {
        hits.discovery += 1;
        if (!discoveryUp) return void res.writeHead(503).end();
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ issuer: namedIssuer ?? issuer, jwks_uri: `${issuer}/keys/elsewhere` }));
      }
      if (req.url === '/keys/elsewhere') {
        hits.jwks += 1;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
    const web = express();
    web.use(bearerAuth({ issuer, audience: AUDIENCE, jwksCooldownMs: 0, jwksTimeoutMs: 1000 }));
    web.get('/who', (req, res) => {
      res.json({ client: req.auth?.clientId });
    });
    web.use(problemHandler());
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    expect(hits.discovery).toBe(0);
    const call = async () => {
      const signed = await token({ jti: Math.random().toString(36) })
        .setIssuer(issuer)
        .setProtectedHeader({ alg: 'ES256', kid: 'd1' })
        .sign(keys.privateKey);
      return fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/who`, { headers: { authorization: `Bearer ${signed}` } });
    };

    // Discovery down: the same 502 as an unreachable JWKS, and the next request tries again.
    const down = await call();
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ code: 'upstream.unavailable', retriable: true });
    // A document naming another issuer is refused too (OpenID Connect Discovery §4.3).
    discoveryUp = true;
    namedIssuer = 'http://evil.example';
    expect((await call()).status).toBe(502);
    namedIssuer = undefined;
    for (let i = 0; i < 3; i++) {
      const ok = await call();
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ client: 'demo' });
    }
    expect(hits).toEqual({ discovery: 3, jwks: 1 });
    server.close();
    issuerServer.close();
  });
});
