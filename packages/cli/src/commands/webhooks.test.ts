import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAuthServer, type TestAuthServer } from '../testing/auth-server.ts';
import { runCli } from '../testing/cli.ts';

/** A port nobody listens on: one that was just free. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('junction webhooks listen: help and arguments', () => {
  it('explains itself with an example, under webhooks and webhooks listen', async () => {
    const top = await runCli(['webhooks', '--help'], 20_000);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('listen [options]');
    expect(top.stdout).toContain("./junction webhooks listen --events 'com.junction.orders.*'");

    const { code, stdout } = await runCli(['webhooks', 'listen', '--help'], 20_000);
    expect(code).toBe(0);
    for (const flag of [
      '--events <patterns>',
      '--port <n>',
      '--client <id>',
      '--gateway <url>',
      '--ordered',
      '--state-dir <dir>',
      '--auth-url <url>',
    ])
      expect(stdout).toContain(flag);
    expect(stdout).toContain('(default: *, every event)');
    expect(stdout).toContain('(default: "downstream")');
    expect(stdout).toContain('POST /v1/notifications/subscriptions');
    expect(stdout).toContain('webhook-signature');
    expect(stdout).toContain('printed "(again)"');
    expect(stdout).toContain('on Ctrl-C (or SIGTERM) deletes the subscription');
    expect(stdout).toContain("./junction webhooks listen --events 'com.junction.orders.*,com.junction.billing.PaymentFailed' --ordered");
  });

  it('refuses a bad --events value, naming it and saying what a pattern is', async () => {
    const { code, stdout, stderr } = await runCli(['webhooks', 'listen', '--events', 'com.junction.orders.*,orders-placed'], 20_000);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`option '--events <patterns>' argument 'com.junction.orders.*,orders-placed' is invalid`);
    expect(stderr).toContain('"orders-placed" is not an event type pattern');
    expect(stderr).toContain('an event type (com.junction.orders.OrderPlaced), a namespace followed by .* (com.junction.orders.*) or *');
  });

  it.each([
    ['--port', '65536', 'expected a port from 0 to 65535'],
    ['--port', 'any', 'expected a port from 0 to 65535'],
    ['--gateway', 'localhost:8080', 'expected an http: or https: URL such as http://127.0.0.1:8080'],
  ])('refuses %s %s', async (flag, value, message) => {
    const { code, stderr } = await runCli(['webhooks', 'listen', flag, value], 20_000);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });
});

describe('junction webhooks listen: without a stack', () => {
  let auth: TestAuthServer;
  beforeAll(async () => {
    auth = await startTestAuthServer();
  });
  afterAll(async () => {
    await auth?.stop();
  });

  it('says the gateway is not running and to start ./junction up', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await runCli(
      ['webhooks', 'listen', '--auth-url', auth.url, '--state-dir', auth.stateDir, '--gateway', `http://127.0.0.1:${port}`],
      30_000,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`the gateway at http://127.0.0.1:${port} is not running (connection refused) → start it with ./junction up`);
  });

  it('says so when the auth server does not answer, before it listens', async () => {
    const port = await closedPort();
    const { code, stderr } = await runCli(
      ['webhooks', 'listen', '--auth-url', `http://127.0.0.1:${port}`, '--state-dir', auth.stateDir],
      30_000,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`the auth server at http://127.0.0.1:${port} does not answer → start it with ./junction up`);
  });

  it('names the client when it is not configured', async () => {
    const { code, stderr } = await runCli(
      ['webhooks', 'listen', '--client', 'nobody', '--auth-url', auth.url, '--state-dir', auth.stateDir],
      30_000,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/no client "nobody" in .*clients\.yaml → configured: .*downstream/);
  });
});
