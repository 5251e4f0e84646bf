import type { AddressInfo } from 'node:net';
import { createMetrics, type Metrics } from '@junction/observability';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpMetrics, metricsHandler, routeLabel } from './metrics.ts';
import { notFound, problemHandler } from './problem.ts';

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
    // As the gateway mounts its guards and proxies: no route of their own.
    app.use(
      '/v1',
      routeLabel('/v1/*'),
      (req, res, next) => {
        if (req.headers.authorization) next();
        else res.status(401).end();
      },
      v1,
    );
    app.use('/v1/shop', routeLabel('/v1/shop/*'), (req, res) => {
      res.status(req.path === '/missing' ? 404 : 200).end();
    });
    app.use(notFound());
    app.use(problemHandler());
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
    const authorized = { headers: { authorization: 'yes' } };
    for (const type of ['com.junction.orders.OrderPlaced', 'com.junction.orders.OrderCancelled'])
      expect((await fetch(`${base}/v1/events/${type}`, { method: 'POST', ...authorized })).status).toBe(202);
    expect((await fetch(`${base}/v1/boom`, authorized)).status).toBe(500);
    expect((await fetch(`${base}/wp-admin/${Math.random()}`)).status).toBe(404);
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = (fragment: string) => text.split('\n').find((l) => l.startsWith('junction_http_requests_total{') && l.includes(fragment));
    expect(line('route="/v1/events/:type"')).toMatch(/status_class="2xx".* 2$/);
    expect(line('route="/v1/boom"')).toMatch(/status_class="5xx".* 1$/);
    // A mount's refusal and its proxied answers carry the mount's pattern; an unknown path, even
    // under a labelled mount, stays unmatched.
    expect((await fetch(`${base}/v1/events/x`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/v1/shop/items/${Math.random()}`, authorized)).status).toBe(200);
    expect((await fetch(`${base}/v1/shop/missing`, authorized)).status).toBe(404);
    expect((await fetch(`${base}/v1/${Math.random()}`, authorized)).status).toBe(404);
    const after = await (await fetch(`${base}/metrics`)).text();
    const lineAfter = (fragment: string) =>
      after.split('\n').find((l) => l.startsWith('junction_http_requests_total{') && l.includes(fragment) && l.includes('4xx'));
    expect(lineAfter('route="/v1/*"')).toMatch(/ 1$/);
    expect(after).toMatch(/junction_http_requests_total\{[^}]*route="\/v1\/shop\/\*"[^}]*status_class="2xx"[^}]*\} 1/);
    expect(lineAfter('route="/v1/shop/*"')).toMatch(/ 1$/);
    expect(lineAfter('route="unmatched"')).toMatch(/ 2$/);
    expect(line('route="unmatched"')).toMatch(/status_class="4xx".* 1$/);
    expect(text).not.toContain('OrderPlaced');
    expect(text).toMatch(/junction_http_request_duration_seconds_count\{[^}]*route="\/v1\/events\/:type"[^}]*\} 2/);
  });
});
