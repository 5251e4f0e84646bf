import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAuthServer, type TestAuthServer } from '../testing/auth-server.ts';
import { runCli } from '../testing/cli.ts';

let auth: TestAuthServer;
beforeAll(async () => {
  auth = await startTestAuthServer();
});
afterAll(async () => {
  await auth?.stop();
});

const kidsServed = async () => {
  const jwks = (await (await fetch(`${auth.url}/jwks`, { signal: AbortSignal.timeout(5000) })).json()) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((k) => k.kid);
};
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
const cli = (...args: string[]) => runCli([...args, '--state-dir', auth.stateDir], 20_000);

describe('junction auth', () => {
  it('rotates the keys of a running server, which signs with the new key while still publishing the old', async () => {
    const listed = await cli('auth', 'keys', '--json');
    expect(listed.code).toBe(0);
    const before = JSON.parse(listed.stdout) as Array<{ kid: string; state: string; privateJwk?: unknown }>;
    expect(before.map((k) => k.state)).toEqual(['signing']);
    expect(before[0]?.privateJwk).toBeUndefined();
    const oldKid = before[0]?.kid ?? '';
    expect(await kidsServed()).toEqual([oldKid]);

    const rotated = await cli('auth', 'rotate-keys');
    expect(rotated.code).toBe(0);
    const newKid = /New signing key (\S+)/.exec(rotated.stdout)?.[1] ?? '';
    expect(newKid).not.toBe('');

    // The server checks its key file every 2 s.
    const deadline = Date.now() + 6000;
    while ((await kidsServed())[0] !== newKid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
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
