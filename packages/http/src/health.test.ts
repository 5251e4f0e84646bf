import express from 'express';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from './health.ts';
import { listen } from './internal/testing.ts';

describe('healthRoutes', () => {
  it('is alive regardless of dependencies, and ready only when every check answers in time', async () => {
    let kafkaUp = true;
    let accepting = true;
    const app = express();
    app.use(
      healthRoutes({
        timeoutMs: 200,
        accepting: () => accepting,
        checks: {
          kafka: async () => {
            if (!kafkaUp) throw new Error('connection refused');
          },
          registry: () => new Promise((resolve) => setTimeout(resolve, kafkaUp ? 1 : 1000)),
        },
      }),
    );
    const { base, close } = await listen(app);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    kafkaUp = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { checks: Record<string, unknown> };
    expect(body.checks.kafka).toMatchObject({ ok: false, error: 'connection refused' });
    expect(body.checks.registry).toMatchObject({ ok: false, error: 'no answer in 200 ms' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    kafkaUp = true;
    accepting = false;
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'shutting down' });
    close();
  });
});
