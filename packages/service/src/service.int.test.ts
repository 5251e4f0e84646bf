import { randomUUID } from 'node:crypto';
import { createPublisher } from '@junction/events';
import { type PrivateContracts, privateContracts, sampleEvent, until } from '@junction/events/testing';
import { createLogger, createMetrics } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envPrefix } from './config.ts';
import { type RunningService, startService } from './service.ts';
import { sampleService } from './testing/sample-service.ts';

describe('a service on the kit, against the real stack', { timeout: 120_000 }, () => {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  let contracts: PrivateContracts;
  let service: RunningService;
  let name: string;

  beforeAll(async () => {
    contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
    name = `sample-${contracts.suffix}`;
    if (!process.env.JUNCTION_POSTGRES_URL) throw new Error('these tests need the stack PostgreSQL (JUNCTION_POSTGRES_URL)');
    service = await startService(sampleService(name), {
      logger: createLogger({ service: name, level: 'error' }),
      metrics: createMetrics({ service: name, processMetrics: false }),
      env: { ...process.env, [`${envPrefix(name)}_PORT`]: '0', SAMPLE_GREETING: 'ahoy' },
      catalog: contracts.catalog,
    });
  }, 120_000);

  afterAll(async () => {
    await service?.shutdown();
    await service?.context.db.close().catch(() => {});
    await contracts?.cleanup();
  });

  /** Events handled for an order, one row each. */
  const handled = async (orderId: string): Promise<string[]> => {
    const { rows } = await service.context.db.query('SELECT event_id FROM handled WHERE order_id = $1', [orderId]);
    return (rows as Array<{ event_id: string }>).map((row) => row.event_id);
  };

  it('is ready once Kafka, the registry and its database answer, each named', async () => {
    const response = await fetch(`${service.url}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { checks: Record<string, { ok: boolean }> };
    expect(Object.keys(body.checks).sort()).toEqual(['database', 'kafka', 'registry']);
    expect(Object.values(body.checks).every((check) => check.ok)).toBe(true);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${service.url}/metrics`)).text()).toContain('junction_http_requests_total');
  });

  it('keeps its tables in a schema of its own', async () => {
    const { rows } = await service.context.db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('placed', 'handled', 'junction_outbox', 'junction_inbox') ORDER BY 1",
      [name.replace(/-/g, '_')],
    );
    expect((rows as Array<{ table_name: string }>).map((r) => r.table_name)).toEqual([
      'handled',
      'junction_inbox',
      'junction_outbox',
      'placed',
    ]);
  });

  it('stores a row and its event in one transaction, publishes the event, and its subscription handles it', async () => {
    const orderId = randomUUID();
    const created = await fetch(`${service.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-junction-client': 'demo' },
      body: JSON.stringify({ orderId }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ orderId, greeting: 'ahoy' });
    const read = await fetch(`${service.url}/orders/${orderId}`);
    expect(await read.json()).toEqual({ order_id: orderId, placed_by: 'demo' });
    await until(async () => (await handled(orderId)).length === 1, 30_000, 'the subscription to handle the OrderPlaced');
  });

  it('handles a redelivered event once: the inbox row commits with the effect', async () => {
    const publisher = createPublisher({
      service: 'test',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
    });
    try {
      const first = randomUUID();
      const id = randomUUID();
      const event = sampleEvent('com.junction.orders.OrderPlaced', first);
      await publisher.publish('com.junction.orders.OrderPlaced', event, { id });
      await publisher.publish('com.junction.orders.OrderPlaced', event, { id });
      // A later event of the same key is handled after both copies: once it is, so were they.
      const marker = randomUUID();
      await publisher.publish('com.junction.orders.OrderPlaced', event, { id: marker });
      await until(async () => (await handled(first)).includes(marker), 30_000, 'the later event of the same key');
      expect(await handled(first)).toEqual([id, marker]);
    } finally {
      await publisher.close();
    }
  });

  it('answers problem+json: no caller (not through the gateway), a bad body, an unknown order, an unknown path', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${service.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const anonymous = await post({}, JSON.stringify({ orderId: randomUUID() }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const bad = await post({ 'x-junction-client': 'demo' }, JSON.stringify({ orderId: 'nope' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'request.invalid', errors: [{ path: 'orderId', message: 'not a UUID' }] });
    const broken = await post({ 'x-junction-client': 'demo' }, '{"orderId":');
    expect(broken.status).toBe(400);
    expect((await fetch(`${service.url}/orders/${randomUUID()}`)).status).toBe(404);
    const unknown = await fetch(`${service.url}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'route.unknown' });
  });

  it('stops: HTTP first, then its consumers, relay and publisher, and it no longer listens', async () => {
    const url = service.url;
    await service.shutdown();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
