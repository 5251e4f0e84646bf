import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { type MetricsServer, serveMetrics } from './serve.ts';
import { telemetry } from './telemetry.ts';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(ready?: () => Promise<boolean>) {
  const metrics = createMetrics({ service: 'inventory' });
  const server = await serveMetrics(metrics, { port: 0, ...(ready ? { ready } : {}) });
  servers.push(server);
  return { metrics, server };
}

describe('serveMetrics', () => {
  it('serves the Prometheus text on /metrics, process metrics included', async () => {
    const { metrics, server } = await serve();
    telemetry.publishSettled.publish({ topic: 'inventory.stock', eventType: 'x', outcome: 'ok', durationMs: 1 });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('junction_events_published_total{topic="inventory.stock"');
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="inventory"\} /m);
    metrics.close();
  });

  it('answers /healthz always and /readyz as the readiness check says', async () => {
    let ready = false;
    const { metrics, server } = await serve(async () => ready);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    metrics.close();
  });

  it('says where to look on an unknown path and refuses other methods', async () => {
    const { metrics, server } = await serve();
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('/metrics');
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    metrics.close();
  });
});
