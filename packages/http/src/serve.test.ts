import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from './health.ts';
import { type RunningServer, serveHttp } from './serve.ts';

describe('serveHttp', () => {
  it('finishes an in-flight request at shutdown, then refuses new connections', async () => {
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.json({ done: true }), 300);
    });
    const cut: string[] = [];
    const running = await serveHttp(app, {
      port: 0,
      shutdownTimeoutMs: 5000,
      logger: { info: () => {}, warn: (message: string) => cut.push(message) },
    });
    const inFlight = fetch(`${running.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(running.accepting()).toBe(true);
    const stopped = running.shutdown();
    expect(running.accepting()).toBe(false);
    const response = await inFlight;
    expect(await response.json()).toEqual({ done: true });
    const before = performance.now();
    await stopped;
    // The connection kept alive after its answer is closed at once, not cut at the deadline.
    expect(performance.now() - before).toBeLessThan(2000);
    expect(cut).toEqual([]);
    await expect(fetch(`${running.url}/slow`)).rejects.toThrow();
  });

  it('keeps serving through the drain delay while /readyz says 503, then stops listening', async () => {
    const app = express();
    let running: RunningServer | undefined;
    app.use(healthRoutes({ checks: {}, accepting: () => running?.accepting() ?? true }));
    app.get('/work', (_req, res) => {
      res.json({ done: true });
    });
    running = await serveHttp(app, { port: 0, drainDelayMs: 400 });
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    const started = performance.now();
    const stopped = running.shutdown();
    let stoppedAt = 0;
    void stopped.then(() => {
      stoppedAt = performance.now();
    });
    const draining = await fetch(`${running.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'shutting down' });
    // A new connection, not only a kept-alive one, is still served.
    const fresh = await fetch(`${running.url}/work`, { headers: { connection: 'close' } });
    expect(await fresh.json()).toEqual({ done: true });
    expect(stoppedAt).toBe(0);
    await stopped;
    expect(stoppedAt - started).toBeGreaterThanOrEqual(390);
    await expect(fetch(`${running.url}/work`)).rejects.toThrow();
  });

  it('cuts requests still running at the deadline', async () => {
    const app = express();
    app.get('/stuck', () => {});
    const warnings: string[] = [];
    const running = await serveHttp(app, {
      port: 0,
      shutdownTimeoutMs: 200,
      logger: { info: () => {}, warn: (m: string) => warnings.push(m) },
    });
    const stuck = fetch(`${running.url}/stuck`).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await running.shutdown();
    expect(await stuck).toBeInstanceOf(Error);
    expect(warnings).toHaveLength(1);
  });

  it('serves HTTPS from PEM files or from PEM contents already read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-serve-tls-'));
    try {
      const certFile = join(dir, 'cert.pem');
      const keyFile = join(dir, 'key.pem');
      // A self-signed certificate for 127.0.0.1, made by the same openssl the stack's local CA uses.
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile].concat([
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ]),
        { stdio: 'ignore', timeout: 10_000 },
      );
      const cert = await readFile(certFile);
      const app = express().get('/hello', (_req, res) => {
        res.json({ hello: true });
      });
      const ask = (url: string) =>
        new Promise<{ status?: number; body: string }>((resolve, reject) => {
          const request = get(`${url}/hello`, { ca: cert, timeout: 5000, agent: false }, (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => {
              body += chunk.toString();
            });
            response.on('end', () => resolve({ status: response.statusCode, body }));
          });
          request.on('timeout', () => request.destroy(new Error('timed out')));
          request.on('error', reject);
        });
      for (const tls of [
        { certFile, keyFile },
        { cert, key: (await readFile(keyFile)).toString() },
      ]) {
        const running = await serveHttp(app, { port: 0, tls });
        try {
          expect(running.url).toMatch(/^https:\/\//);
          expect(await ask(running.url)).toMatchObject({ status: 200, body: '{"hello":true}' });
        } finally {
          await running.shutdown();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says clearly when the TLS files cannot be read', async () => {
    await expect(serveHttp(express(), { port: 0, tls: { certFile: '/nonexistent.crt', keyFile: '/nonexistent.key' } })).rejects.toThrow(
      /cannot read the TLS certificate/,
    );
  });
});
