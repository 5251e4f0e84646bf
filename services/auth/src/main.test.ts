import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs the auth process from its sources, as `./junction up` runs its build. */
function startMain(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', MAIN], {
    env: { ...process.env, OTEL_SDK_DISABLED: 'true', ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, output: () => output, exited };
}

/** Resolves with the `listening` log line once the process printed it. */
async function listening(started: Started): Promise<{ url: string; issuer: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = started
      .output()
      .split('\n')
      .find((l) => l.includes('"message":"listening"'));
    if (line) return JSON.parse(line) as { url: string; issuer: string };
    if (started.child.exitCode !== null) throw new Error(`the auth process exited early:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`no listening line:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let stateDir: string;
let started: Started | undefined;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'junction-auth-main-'));
});
afterEach(async () => {
  if (started && started.child.exitCode === null) {
    started.child.kill('SIGKILL');
    await started.exited;
  }
  started = undefined;
  await rm(stateDir, { recursive: true, force: true });
});

describe('the auth process', () => {
  it('finishes an in-flight token request on SIGTERM, then exits 0, logging no secret or token', async () => {
    started = startMain({ JUNCTION_AUTH_PORT: '0', JUNCTION_AUTH_STATE_DIR: stateDir });
    const { url, issuer } = await listening(started);
    expect(issuer).toBe(url);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('service="auth"');

    const secret = (await readFile(join(stateDir, 'clients', 'demo.secret'), 'utf8')).trim();
    const body = 'grant_type=client_credentials&scope=events%3Aorders.order%3Awrite';
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      // The server says `connection: close` while draining and ends the connection after answering.
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Half a request: the server has it in flight when the signal comes.
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Basic ${Buffer.from(`demo:${secret}`).toString('base64')}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    started.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(started.child.exitCode).toBeNull();
    // A new connection is no longer accepted.
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    socket.write(body.slice(10));
    await closed;
    expect(answer, started.output()).toMatch(/^HTTP\/1\.1 200/);
    const token = /"access_token":"([^"]+)"/.exec(answer)?.[1] ?? '';
    expect(token.length).toBeGreaterThan(100);
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('"message":"shutting down"');
    expect(started.output()).toContain('"message":"token issued"');
    expect(started.output()).not.toContain(secret);
    expect(started.output()).not.toContain(token);
  });

  it('exits 1 naming the config file and the field when the configuration is wrong', async () => {
    const config = join(stateDir, 'bad.yaml');
    await writeFile(config, 'algorithm: none\nclients: []\n');
    started = startMain({ JUNCTION_AUTH_PORT: '0', JUNCTION_AUTH_STATE_DIR: stateDir, JUNCTION_AUTH_CONFIG: config });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain(config);
    expect(started.output()).toContain('algorithm:');
    expect(started.output()).toContain('clients: configure at least one client');
  });

  it('exits 1 saying so when the TLS files cannot be read', async () => {
    const missing = join(stateDir, 'missing.pem');
    started = startMain({
      JUNCTION_AUTH_PORT: '0',
      JUNCTION_AUTH_STATE_DIR: stateDir,
      JUNCTION_AUTH_TLS_CERT_FILE: missing,
      JUNCTION_AUTH_TLS_KEY_FILE: missing,
    });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('cannot read the TLS certificate or key');
    expect(started.output()).toContain(missing);
  });

  it('reports every bad environment variable at once', async () => {
    started = startMain({ JUNCTION_AUTH_PORT: 'eighty', JUNCTION_AUTH_ISSUER: 'not a url', JUNCTION_AUTH_TLS_CERT_FILE: '/x.pem' });
    expect(await started.exited).toBe(1);
    for (const name of ['JUNCTION_AUTH_PORT', 'JUNCTION_AUTH_ISSUER', 'JUNCTION_AUTH_TLS_KEY_FILE'])
      expect(started.output()).toContain(name);
  });
});
