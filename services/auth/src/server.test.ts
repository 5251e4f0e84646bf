import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics, type Metrics } from '@junction/observability';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthConfig, parseAuthConfig } from './config.ts';
import { keyFilePath, rotateKeyFile } from './keys.ts';
import { generatedSecretFile } from './secrets.ts';
import { type AuthServer, startAuthServer } from './server.ts';

const AUDIENCE = 'urn:junction:gateway';
const ACTIVATION_MS = 300;
const config: AuthConfig = parseAuthConfig(
  {
    audience: AUDIENCE,
    tokenTtl: 120,
    // Short, so the tests see a rotated key start signing; the default is 60 s.
    keyActivationDelay: `${ACTIVATION_MS}ms`,
    clients: [
      { id: 'demo', scopes: ['events:orders.order:write', 'events:billing.payment:write'] },
      { id: 'ops', scopes: ['events:orders.order:read'] },
      { id: 'env-client', scopes: ['events:orders.order:read'], secret: { env: 'TEST_AUTH_ENV_CLIENT_SECRET' } },
    ],
  },
  '/test/clients.yaml',
);

let stateDir: string;
let server: AuthServer;
let metrics: Metrics;

/** Asks the token endpoint as `client` with client_secret_basic. */
async function token(client: string, secret: string, scope?: string) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) });
  const response = await fetch(server.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}` },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string | number> };
}

const secretOf = async (client: string) => (await readFile(generatedSecretFile(stateDir, client), 'utf8')).trim();

/** The JWKS as served now (no cache, so a rotation shows at once). */
async function jwks() {
  const response = await fetch(server.jwksUrl, { signal: AbortSignal.timeout(5000) });
  return (await response.json()) as JSONWebKeySet;
}

const verify = async (jwt: string) =>
  jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: server.issuer, audience: AUDIENCE, algorithms: ['ES256'] });

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'junction-auth-server-'));
  metrics = createMetrics({ service: 'auth-test', processMetrics: false });
  server = await startAuthServer({
    config,
    stateDir,
    keyCheckIntervalMs: 100,
    metrics,
    env: { TEST_AUTH_ENV_CLIENT_SECRET: 'a-secret-from-the-environment' },
  });
});
afterAll(async () => {
  await server?.close();
  metrics?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('the token endpoint', () => {
  it('gives demo a JWT that verifies against the served JWKS, with iss, aud, scope, exp and kid', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, body } = await token('demo', await secretOf('demo'), 'events:orders.order:write');
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'events:orders.order:write' });
    const jwt = String(body.access_token);
    const { payload, protectedHeader } = await verify(jwt);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: server.keys().at(-1)?.kid });
    expect(payload).toMatchObject({
      iss: server.issuer,
      aud: AUDIENCE,
      sub: 'demo',
      client_id: 'demo',
      scope: 'events:orders.order:write',
    });
    expect(payload.exp).toBeGreaterThanOrEqual(before + 120);
    expect(payload.exp).toBeLessThanOrEqual(before + 122);
    expect(typeof payload.jti).toBe('string');
    expect(payload.nbf).toBe(payload.iat);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub']);
  });

  it("grants several of the client's scopes, space-separated, and none when none are asked for", async () => {
    const secret = await secretOf('demo');
    const both = await token('demo', secret, 'events:orders.order:write events:billing.payment:write');
    expect((await verify(String(both.body.access_token))).payload.scope).toBe('events:orders.order:write events:billing.payment:write');
    const none = await token('demo', secret);
    expect(none.status).toBe(200);
    expect((await verify(String(none.body.access_token))).payload.scope).toBeUndefined();
  });

  it('reads a secret from the environment', async () => {
    const { status } = await token('env-client', 'a-secret-from-the-environment', 'events:orders.order:read');
    expect(status).toBe(200);
  });

  it('refuses a wrong secret and an unknown client with 401 invalid_client', async () => {
    expect(await token('demo', 'not-the-secret-of-demo')).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token('nobody', 'whatever-whatever-whatever')).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('refuses scopes the client does not hold with invalid_scope, naming the ones it may have', async () => {
    const secret = await secretOf('ops');
    for (const scope of ['events:orders.order:write', 'events:inventory.stock:read', 'events:orders.order:read admin']) {
      const { status, body } = await token('ops', secret, scope);
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
      expect(body.error_description).toContain('events:orders.order:read');
    }
  });

  it('refuses another audience', async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource: 'urn:other', scope: 'events:orders.order:read' });
    const response = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`ops:${await secretOf('ops')}`).toString('base64')}` },
      body,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_target');
  });

  it('serves discovery, health, readiness and metrics labelled by route', async () => {
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: server.issuer,
      jwks_uri: server.jwksUrl,
      token_endpoint: server.tokenUrl,
      grant_types_supported: ['client_credentials'],
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/junction_http_requests_total\{[^}]*route="\/token"[^}]*\} \d+/);
  });
});

/** The kid of a token the demo client gets now. */
const signingKidNow = async () =>
  decodeProtectedHeader(String((await token('demo', await secretOf('demo'), 'events:orders.order:write')).body.access_token)).kid;

describe('key rotation', () => {
  it('publishes the new key at once, signs with it after the activation delay, and drops the old kid on retire', async () => {
    const secret = await secretOf('demo');
    const old = String((await token('demo', secret, 'events:orders.order:write')).body.access_token);
    const oldKid = decodeProtectedHeader(old).kid;

    const rotatedAt = Date.now();
    const newKid = await server.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    // Published first: verifiers can fetch it before any token carries its kid.
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    const early = String((await token('demo', secret, 'events:orders.order:write')).body.access_token);
    expect(Date.now() - rotatedAt).toBeLessThan(ACTIVATION_MS);
    expect(decodeProtectedHeader(early).kid).toBe(oldKid);
    expect(server.keys()).toMatchObject([
      { kid: oldKid, state: 'signing' },
      { kid: newKid, state: 'next', activatesAt: expect.any(String) },
    ]);

    // The server switches by itself once the delay passed (the check runs every 100 ms here).
    await new Promise((r) => setTimeout(r, ACTIVATION_MS + 150));
    const fresh = String((await token('demo', secret, 'events:orders.order:write')).body.access_token);
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    await verify(old);
    await verify(early);
    await verify(fresh);
    expect(server.keys().map((k) => k.state)).toEqual(['published', 'signing']);

    // Not yet: the old key may still have signed a valid token.
    expect(await server.retireKeys()).toEqual([]);
    const later = new Date(Date.now() + (120 + 60 + 1) * 1000);
    expect(await server.retireKeys(later)).toEqual([oldKid]);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    await expect(verify(old)).rejects.toThrow(/no applicable key/i);
    await verify(fresh);
  });

  it('follows a rotation another process wrote to the key file, without a restart, activating it on time', async () => {
    const before = await signingKidNow();
    const rotated = await rotateKeyFile(keyFilePath(stateDir));
    const kid = rotated.keys.at(-1)?.kid;
    const activatesAt = Date.parse(rotated.keys.at(-1)?.createdAt ?? '') + ACTIVATION_MS;
    const deadline = Date.now() + 3000;
    while (!(await jwks()).keys.some((k) => k.kid === kid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (Date.now() < activatesAt - 50) expect(await signingKidNow()).toBe(before);
    while ((await signingKidNow()) !== kid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Not before its activation time, and not much after it.
    expect(Date.now()).toBeGreaterThanOrEqual(activatesAt);
    expect(Date.now()).toBeLessThan(activatesAt + 1000);
    expect((await jwks()).keys[0]?.kid).toBe(kid);
  });
});

describe('RS256', () => {
  it('signs with RS256 when configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-auth-rs-'));
    const rs = await startAuthServer({
      config: { ...config, algorithm: 'RS256' },
      stateDir: dir,
      env: { TEST_AUTH_ENV_CLIENT_SECRET: 'x'.repeat(20) },
    });
    try {
      const secret = (await readFile(generatedSecretFile(dir, 'demo'), 'utf8')).trim();
      const response = await fetch(rs.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`demo:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'events:orders.order:write' }),
      });
      const jwt = ((await response.json()) as { access_token: string }).access_token;
      const set = (await (await fetch(rs.jwksUrl)).json()) as JSONWebKeySet;
      const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(set), {
        issuer: rs.issuer,
        audience: AUDIENCE,
        algorithms: ['RS256'],
      });
      expect(protectedHeader.alg).toBe('RS256');
    } finally {
      await rs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
