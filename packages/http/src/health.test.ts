import express from 'express';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from './health.ts';
import { listen } from './internal/testing.ts';
import { problemHandler } from './problem.ts';

describe('healthRoutes', () => {
  it('is alive regardless of dependencies, and ready only when every check answers in time', async () => {
    let kafkaUp = true;
    let accepting = true;
    const app = express();
    app.use(
      healthRoutes({
        timeoutMs: 200,
        cacheMs: 0,
        accepting: () => accepting,
        checks: {
          kafka: async () => {
            if (!kafkaUp) throw new Error('connection refused to 10.0.0.7:9092');
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
    expect(body.checks.kafka).toEqual({ ok: false, ms: expect.any(Number) });
    expect(body.checks.registry).toEqual({ ok: false, ms: expect.any(Number) });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    kafkaUp = true;
    accepting = false;
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'shutting down' });
    close();
  });

  it('answers a method other than GET on /healthz and /readyz with 405 and Allow', async () => {
    const app = express();
    app.use(healthRoutes({ checks: {} }));
    app.use(problemHandler());
    const { base, close } = await listen(app);
    for (const path of ['/healthz', '/readyz']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const answer = await fetch(`${base}${path}`, { method });
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.headers.get('allow')).toBe('GET, HEAD');
      }
      expect((await fetch(`${base}${path}`, { method: 'HEAD' })).status).toBe(200);
    }
    close();
  });

  it('keeps dependency errors out of the body and logs each failing check once a minute', async () => {
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const app = express();
    app.use(
      healthRoutes({
        cacheMs: 0,
        logger: { warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }) },
        checks: {
          kafka: async () => {
            throw new Error('SASL authentication failed for user admin at 10.0.0.7:9092');
          },
        },
      }),
    );
    const { base, close } = await listen(app);
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/readyz`);
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(text).not.toMatch(/SASL|10\.0\.0\.7|admin/);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('kafka');
    expect(String(warnings[0]?.fields?.err)).toContain('SASL');
    close();
  });

  it('runs one round of checks at a time and answers from it for cacheMs', async () => {
    let runs = 0;
    const app = express();
    app.use(
      healthRoutes({
        cacheMs: 300,
        checks: {
          kafka: async () => {
            runs++;
            await new Promise((resolve) => setTimeout(resolve, 50));
          },
        },
      }),
    );
    const { base, close } = await listen(app);
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/readyz`)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(runs).toBe(1);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(runs).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await fetch(`${base}/readyz`);
    expect(runs).toBe(2);
    close();
  });
});
