import type { AddressInfo } from 'node:net';
import { createMetrics, type Metrics } from '@junction/observability';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpMetrics, metricsHandler } from './metrics.ts';

describe('httpMetrics', () => {
  let base: string;
  let close: () => void;
  let metrics: Metrics;

  beforeAll(async () => {
    metrics = createMetrics({ service: 'gateway', processMetrics: false });
    const app = express();
    app.use(httpMetrics());
    app.get('/metrics', metricsHandler(metrics));
    const v1 = express.Router();
    v1.post('/events/:type', (_req, res) => {
      res.status(202).json({ id: 'e-1' });
    });
    v1.get('/boom', () => {
      throw new Error('a bug');
    });
    app.use('/v1', v1);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(() => {
    metrics.close();
    close();
  });

  it('counts requests by route pattern and status class, never by raw path', async () => {
    for (const type of ['com.junction.orders.OrderPlaced', 'com.junction.orders.OrderCancelled'])
      expect((await fetch(`${base}/v1/events/${type}`, { method: 'POST' })).status).toBe(202);
    expect((await fetch(`${base}/v1/boom`)).status).toBe(500);
    expect((await fetch(`${base}/wp-admin/${Math.random()}`)).status).toBe(404);
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = (fragment: string) => text.split('\n').find((l) => l.startsWith('junction_http_requests_total{') && l.includes(fragment));
    expect(line('route="/v1/events/:type"')).toMatch(/status_class="2xx".* 2$/);
    expect(line('route="/v1/boom"')).toMatch(/status_class="5xx".* 1$/);
    expect(line('route="unmatched"')).toMatch(/status_class="4xx".* 1$/);
    expect(text).not.toContain('OrderPlaced');
    expect(text).toMatch(/junction_http_request_duration_seconds_count\{[^}]*route="\/v1\/events\/:type"[^}]*\} 2/);
  });
});
