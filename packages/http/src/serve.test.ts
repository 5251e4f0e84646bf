import express from 'express';
import { describe, expect, it } from 'vitest';
import { serveHttp } from './serve.ts';

describe('serveHttp', () => {
  it('finishes an in-flight request at shutdown, then refuses new connections', async () => {
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.json({ done: true }), 300);
    });
    const running = await serveHttp(app, { port: 0, shutdownTimeoutMs: 5000 });
    const inFlight = fetch(`${running.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(running.accepting()).toBe(true);
    const stopped = running.shutdown();
    expect(running.accepting()).toBe(false);
    const response = await inFlight;
    expect(await response.json()).toEqual({ done: true });
    await stopped;
    await expect(fetch(`${running.url}/slow`)).rejects.toThrow();
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

  it('says clearly when the TLS files cannot be read', async () => {
    await expect(serveHttp(express(), { port: 0, tls: { certFile: '/nonexistent.crt', keyFile: '/nonexistent.key' } })).rejects.toThrow(
      /cannot read the TLS certificate/,
    );
  });
});
