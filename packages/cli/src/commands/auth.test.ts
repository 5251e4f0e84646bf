import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAuthServer, type TestAuthServer } from '../testing/auth-server.ts';
import { runCli } from '../testing/cli.ts';

/**
 * Long enough for the server's 2 s key-file check and three CLI runs (up to 5 s each when CI's
 * other test files load both cores: 10 s was once too short), so the test sees the new key
 * published and listed as next before it signs.
 */
const ACTIVATION_MS = 20_000;

let auth: TestAuthServer;
let configDir: string;
beforeAll(async () => {
  // The default clients with a short activation delay (the default's 60 s is too long for a test).
  configDir = await mkdtemp(join(tmpdir(), 'junction-cli-auth-config-'));
  const defaults = await readFile(new URL('../../../../services/auth/clients.yaml', import.meta.url), 'utf8');
  const config = join(configDir, 'clients.yaml');
  const text = defaults.replace(/^keyActivationDelay: .*$/m, `keyActivationDelay: ${ACTIVATION_MS}ms`);
  expect(text).toContain(`keyActivationDelay: ${ACTIVATION_MS}ms`);
  await writeFile(config, text);
  auth = await startTestAuthServer({ JUNCTION_AUTH_CONFIG: config });
});
afterAll(async () => {
  await auth?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

const kidsServed = async () => {
  const jwks = (await (await fetch(`${auth.url}/jwks`, { signal: AbortSignal.timeout(5000) })).json()) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((k) => k.kid);
};
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
/** A token for demo straight from the token endpoint: quicker than a CLI run, to ask within the delay. */
const demoToken = async () => {
  const secret = (await readFile(join(auth.stateDir, 'auth', 'clients', 'demo.secret'), 'utf8')).trim();
  const response = await fetch(`${auth.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'events:orders.order:write' }),
    signal: AbortSignal.timeout(5000),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
};
const cli = (...args: string[]) => runCli([...args, '--state-dir', auth.stateDir], 20_000);

describe('junction auth', () => {
  it('rotates the keys of a running server, which publishes the new key first, then signs with it while still publishing the old', async () => {
    const listed = await cli('auth', 'keys', '--json');
    expect(listed.code).toBe(0);
    const before = JSON.parse(listed.stdout) as Array<{ kid: string; state: string; privateJwk?: unknown }>;
    expect(before.map((k) => k.state)).toEqual(['signing']);
    expect(before[0]?.privateJwk).toBeUndefined();
    const oldKid = before[0]?.kid ?? '';
    expect(await kidsServed()).toEqual([oldKid]);

    const rotated = await cli('auth', 'rotate-keys');
    expect(rotated.code).toBe(0);
    const [, newKid = '', activatesAt = ''] = /New key (\S+) \(ES256\): published now, signs from (\S+);/.exec(rotated.stdout) ?? [];
    expect(newKid).not.toBe('');
    const activation = Date.parse(activatesAt);
    expect(activation).toBeGreaterThan(Date.now());

    const pending = await cli('auth', 'keys');
    expect(pending.stdout).toMatch(new RegExp(`^${newKid}\\s+ES256\\s+\\S+\\s+next \\(signs from ${activatesAt}\\)$`, 'm'));
    expect(pending.stdout).toMatch(new RegExp(`^${oldKid}\\s+ES256\\s+\\S+\\s+signing$`, 'm'));
    const pendingJson = JSON.parse((await cli('auth', 'keys', '--json')).stdout) as Array<Record<string, string>>;
    expect(pendingJson).toEqual([
      { kid: newKid, alg: 'ES256', createdAt: expect.any(String), state: 'next', activatesAt },
      { kid: oldKid, alg: 'ES256', createdAt: expect.any(String), state: 'signing' },
    ]);

    // The server checks its key file every 2 s: it publishes the new key, and still signs with the old.
    const deadline = Date.now() + ACTIVATION_MS + 10_000;
    while (!(await kidsServed()).includes(newKid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await kidsServed()).toEqual([oldKid, newKid]);
    expect(Date.now()).toBeLessThan(activation - 500);
    expect(header(await demoToken()).kid).toBe(oldKid);

    // Once the delay passed it signs with the new key, without a restart.
    while ((await kidsServed())[0] !== newKid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(Date.now()).toBeGreaterThanOrEqual(activation);
    expect(await kidsServed()).toEqual([newKid, oldKid]);
    const issued = await cli('token', '--client', 'demo', '--auth-url', auth.url);
    expect(issued.code).toBe(0);
    expect(header(issued.stdout.trim()).kid).toBe(newKid);

    const table = await cli('auth', 'keys');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^KID\s+ALG\s+CREATED\s+STATE$/m);
    expect(table.stdout).toMatch(new RegExp(`^${newKid}\\s+ES256\\s+\\S+\\s+signing$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${oldKid}\\s+ES256\\s+\\S+\\s+published$`, 'm'));
  });

  it('says to start the server when there are no keys yet', async () => {
    const { code, stderr } = await runCli(['auth', 'keys', '--state-dir', `${auth.stateDir}/none`], 20_000);
    expect(code).toBe(1);
    expect(stderr).toContain('no signing keys at');
    expect(stderr).toContain('./junction up');
  });

  it('has --help', async () => {
    const { code, stdout } = await runCli(['auth', '--help'], 20_000);
    expect(code).toBe(0);
    for (const command of ['keys', 'rotate-keys', 'retire-keys']) expect(stdout).toContain(command);
  });
});
