import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const token = (...args: string[]) => runCli(['token', '--auth-url', auth.url, '--state-dir', auth.stateDir, ...args], 20_000);

describe('junction token', () => {
  it("prints only demo's access token, holding all of demo's scopes, when no --scope is given", async () => {
    const { code, stdout, stderr } = await token('--client', 'demo');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(claims(stdout.trim())).toMatchObject({
      client_id: 'demo',
      aud: 'urn:junction:gateway',
      iss: auth.url,
      scope: 'events:orders.order:write',
    });
  });

  it('asks for the scopes given', async () => {
    const { code, stdout } = await token('--client', 'ops', '--scope', 'events:orders.order:read');
    expect(code).toBe(0);
    expect(claims(stdout.trim()).scope).toBe('events:orders.order:read');
  });

  it('says which scopes a client may have when one is refused', async () => {
    const { code, stdout, stderr } = await token('--client', 'ops', '--scope', 'events:orders.order:write');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('client ops may not have events:orders.order:write');
    expect(stderr).toContain('it may have: events:orders.order:read');
  });

  it('lists the configured clients for an unknown one', async () => {
    const { code, stderr } = await token('--client', 'nobody');
    expect(code).toBe(1);
    expect(stderr).toMatch(/no client "nobody" in .*clients\.yaml → configured: demo, shop, warehouse, ops/);
  });

  it('says when the server refuses the secret', async () => {
    const config = join(auth.stateDir, 'env-secret.yaml');
    await writeFile(config, 'clients:\n  - id: demo\n    scopes: [events:orders.order:write]\n    secret: { env: TEST_CLI_DEMO_SECRET }\n');
    const { code, stdout, stderr } = await runCli(['token', '--auth-url', auth.url, '--client', 'demo', '--config', config], 20_000, {
      TEST_CLI_DEMO_SECRET: 'not-the-secret-the-server-holds',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`the auth server at ${auth.url} refused client demo (invalid_client)`);
  });

  it('says where it looked for a secret the server has not made', async () => {
    const dir = join(auth.stateDir, 'other');
    const { code, stderr } = await runCli(['token', '--auth-url', auth.url, '--client', 'demo'], 20_000, { JUNCTION_AUTH_STATE_DIR: dir });
    // No secret there yet: the CLI says the server makes it.
    expect(code).toBe(1);
    expect(stderr).toContain(`no secret for client demo at ${join(dir, 'clients', 'demo.secret')}`);
    expect(stderr).toContain('./junction up');
    expect((await readFile(join(auth.stateDir, 'auth', 'clients', 'demo.secret'), 'utf8')).length).toBeGreaterThan(16);
  });

  it('says to run ./junction up when no auth server answers', async () => {
    const { code, stderr } = await token('--client', 'demo', '--auth-url', 'http://127.0.0.1:9');
    expect(code).toBe(1);
    expect(stderr).toContain('the auth server at http://127.0.0.1:9 does not answer → start it with ./junction up');
  });

  it('has --help', async () => {
    const { code, stdout } = await runCli(['token', '--help'], 20_000);
    expect(code).toBe(0);
    expect(stdout).toContain('--client <id>');
    expect(stdout).toContain('TOKEN=$(./junction token --client demo)');
  });
});
