import { randomUUID } from 'node:crypto';
import { openPostgres } from '@junction/events';
import { sampleEvent, until } from '@junction/events/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from './service.ts';
import { type ServiceUnderTest, serviceUnderTest } from './testing/index.ts';
import { sampleService } from './testing/sample-service.ts';

describe('a service on the kit, against the real stack', { timeout: 120_000 }, () => {
  let world: ServiceUnderTest;
  let service: RunningService;
  /** The order the sample's worker places as it stops. */
  const stopOrder = randomUUID();

  beforeAll(async () => {
    world = await serviceUnderTest(sampleService('sample'), { SAMPLE_GREETING: 'ahoy', SAMPLE_STOP_ORDER: stopOrder });
    service = world.service;
  }, 120_000);

  afterAll(async () => {
    await world?.close();
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
      [service.context.config.schema],
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
    const { publisher } = world;
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

  it('stops: HTTP first, then its workers, consumers, relay and publisher, and it no longer listens', async () => {
    const url = service.url;
    const schema = service.context.config.schema;
    await service.shutdown();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // The worker's last transaction committed, and the relay published its event before it stopped.
    const db = openPostgres(String(process.env.JUNCTION_POSTGRES_URL));
    try {
      const { rows } = await db.query(
        `SELECT p.placed_by, o.sent_at IS NOT NULL AS sent FROM ${schema}.placed p JOIN ${schema}.junction_outbox o ON o.key = p.order_id::text WHERE p.order_id = $1`,
        [stopOrder],
      );
      expect(rows).toEqual([{ placed_by: 'worker', sent: true }]);
    } finally {
      await db.close();
    }
  });
});

describe('a service whose handlers are slow, against the real stack', { timeout: 120_000 }, () => {
  it('answers HTTP requests while every handler that may run holds a transaction: consumers have a pool of their own', async () => {
    const world = await serviceUnderTest(sampleService('slow'), { SAMPLE_HANDLER_SLEEP_MS: '4000', SAMPLE_CONCURRENCY: '12' });
    const { service, publisher } = world;
    const sleeping = async () =>
      Number(
        (
          (
            await service.context.db.query(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'",
            )
          ).rows[0] as { n: string }
        ).n,
      );
    try {
      // More events than handlers may run (12, more than the HTTP side's pool of 10), each on a key of its own.
      const keys = Array.from({ length: 20 }, () => randomUUID());
      await Promise.all(
        keys.map((key) => publisher.publish('com.junction.orders.OrderPlaced', sampleEvent('com.junction.orders.OrderPlaced', key))),
      );
      await until(async () => (await sleeping()) >= 12, 30_000, 'twelve handlers holding their transactions');
      const placed = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${service.url}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-junction-client': 'demo' },
            body: JSON.stringify({ orderId: randomUUID() }),
          }),
        ),
      );
      expect(placed.map((r) => r.status)).toEqual(Array(10).fill(201));
      // Answered while the handlers still slept: none of their transactions has committed yet.
      const { rows } = await service.context.db.query('SELECT count(*) AS n FROM handled WHERE order_id = ANY($1::uuid[])', [keys]);
      expect(Number((rows[0] as { n: string }).n)).toBe(0);
      expect(await sleeping()).toBeGreaterThanOrEqual(12);
    } finally {
      await world.close();
    }
  });
});
