import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Publisher } from '@junction/events';
import { type PrivateContracts, readRecords, sampleEvent, until } from '@junction/events/testing';
import type { RunningService } from '@junction/service';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordersService } from './service.ts';

const EXAMPLE = new URL('../../../schemas/examples/order-placed.json', import.meta.url);

describe('the orders service, against the real stack', { timeout: 120_000 }, () => {
  let world: ServiceUnderTest;
  let service: RunningService;
  let contracts: PrivateContracts;
  let publisher: Publisher;
  let example: Record<string, unknown>;

  beforeAll(async () => {
    // The README's example order, less what the service assigns itself.
    const { orderId: _id, placedAt: _at, ...body } = JSON.parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
    example = body;
    world = await serviceUnderTest(ordersService);
    ({ service, contracts, publisher } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const place = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-junction-client': 'shop', 'idempotency-key': randomUUID(), ...headers },
      body: JSON.stringify(body),
    });
  const get = (orderId: string, client = 'shop') => fetch(`${service.url}/orders/${orderId}`, { headers: { 'x-junction-client': client } });
  const statusOf = async (orderId: string) => ((await (await get(orderId)).json()) as { status: string }).status;
  const newOrder = async (): Promise<string> => {
    const response = await place(example);
    expect(response.status).toBe(201);
    return ((await response.json()) as { orderId: string }).orderId;
  };

  it('places the README example: 201, its Location, status placed, and OrderPlaced on orders.order keyed by the order', async () => {
    const response = await place(example);
    expect(response.status).toBe(201);
    const order = (await response.json()) as { orderId: string; status: string; total: string; history: Array<{ event: string }> };
    expect(response.headers.get('location')).toBe(`/orders/${order.orderId}`);
    expect(order).toMatchObject({
      status: 'placed',
      total: '28.20',
      currency: 'EUR',
      history: [{ event: 'OrderPlaced', status: 'placed' }],
    });
    const topic = contracts.catalog.topics.find((t) => t.name.startsWith('orders.order'))?.name ?? '';
    const records = await readRecords(contracts.kafka, [topic], 1);
    expect(records[0]?.key).toBe(order.orderId);
    expect(records[0]?.headers.ce_type).toBe('com.junction.orders.OrderPlaced.v2');
    expect(records[0]?.headers.ce_source).toBe(`/junction/orders-${contracts.suffix}`);
  });

  it('needs an Idempotency-Key, and a retry with the same key gets the same order, a different body a 422', async () => {
    const missing = await fetch(`${service.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-junction-client': 'shop' },
      body: JSON.stringify(example),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'request.invalid', errors: [{ path: '(header).Idempotency-Key' }] });
    const key = randomUUID();
    const first = await place(example, { 'idempotency-key': key });
    const again = await place(example, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { orderId: string }).orderId).toBe(((await first.json()) as { orderId: string }).orderId);
    const other = await place({ ...example, couponCode: 'OTHER' }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'idempotency.conflict' });
  });

  it('answers 422 naming every broken business rule, and 400 for a body of the wrong shape', async () => {
    const broken = await place({
      ...example,
      customerEmail: 'not-an-email',
      currency: 'ZZZ',
      lines: [{ sku: 'BOOK-0001', quantity: 0, unitPrice: '12.505' }],
      total: '1.00',
    });
    expect(broken.status).toBe(422);
    const problem = (await broken.json()) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('request.unprocessable');
    expect(problem.errors.map((e) => e.path)).toEqual(['lines.0.quantity', 'lines.0.unitPrice', 'currency', 'customerEmail']);
    const shape = await place({ ...example, lines: 'many', extra: true });
    expect(shape.status).toBe(400);
    expect(((await shape.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()).toEqual(['(body)', 'lines']);
  });

  it('follows the saga to confirmed, once each: a repeated or late event changes nothing', async () => {
    const orderId = await newOrder();
    const reserved = randomUUID();
    await publisher.publish('com.junction.inventory.StockReserved', sampleEvent('com.junction.inventory.StockReserved', orderId), {
      id: reserved,
    });
    await until(async () => (await statusOf(orderId)) === 'reserved', 30_000, 'the order to be reserved');
    const captured = randomUUID();
    const payment = sampleEvent('com.junction.billing.PaymentCaptured', orderId);
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: captured });
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: captured });
    await publisher.publish('com.junction.inventory.StockRejected', sampleEvent('com.junction.inventory.StockRejected', orderId));
    const marker = randomUUID();
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: marker });
    // The marker comes after the others of its key; by the time it was handled, so were they.
    await until(
      async () => (await service.context.db.query('SELECT 1 FROM junction_inbox WHERE event_id = $1', [marker])).rows.length > 0,
      30_000,
      'the marker',
    );
    const order = (await (await get(orderId)).json()) as { status: string; history: Array<{ event: string; eventId: string }> };
    expect(order.status).toBe('confirmed');
    expect(order.history.map((h) => h.event)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentCaptured']);
    expect(order.history[2]?.eventId).toBe(captured);
  });

  it('confirms on a payment that overtook its reservation (another topic), and the late reservation changes nothing', async () => {
    const orderId = await newOrder();
    await publisher.publish('com.junction.billing.PaymentCaptured', sampleEvent('com.junction.billing.PaymentCaptured', orderId));
    await until(async () => (await statusOf(orderId)) === 'confirmed', 30_000, 'the order to be confirmed');
    const late = randomUUID();
    await publisher.publish('com.junction.inventory.StockReserved', sampleEvent('com.junction.inventory.StockReserved', orderId), {
      id: late,
    });
    await until(
      async () => (await service.context.db.query('SELECT 1 FROM junction_inbox WHERE event_id = $1', [late])).rows.length > 0,
      30_000,
      'the late reservation',
    );
    const order = (await (await get(orderId)).json()) as { status: string; history: Array<{ event: string }> };
    expect(order.status).toBe('confirmed');
    expect(order.history.map((h) => h.event)).toEqual(['OrderPlaced', 'PaymentCaptured']);
  });

  it('cancels on a stock rejection, saying why, and emits OrderCancelled for inventory and billing', async () => {
    const orderId = await newOrder();
    const rejection = sampleEvent('com.junction.inventory.StockRejected', orderId);
    await publisher.publish('com.junction.inventory.StockRejected', rejection);
    await until(async () => (await statusOf(orderId)) === 'cancelled', 30_000, 'the order to be cancelled');
    const order = (await (await get(orderId)).json()) as { cancelReason: string };
    expect(order.cancelReason).toMatch(/^out of stock/);
    // OrderCancelled, caused by the rejection, is published for inventory (release) and billing (refund).
    await until(
      async () =>
        (
          await service.context.db.query(
            "SELECT 1 FROM junction_outbox WHERE event_type = 'com.junction.orders.OrderCancelled' AND key = $1 AND sent_at IS NOT NULL",
            [orderId],
          )
        ).rows.length === 1,
      30_000,
      'OrderCancelled to be sent',
    );
  });

  /** The value of a KPI series of this service's registry (a histogram's `_count` too), summed over the series matching `labels`. */
  const kpi = async (series: string, labels: Record<string, string> = {}): Promise<number> => {
    const name = series.replace(/_count$/, '');
    const metric = service.context.metrics.registry.getSingleMetric(name);
    if (!metric) throw new Error(`${series} is not registered`);
    const values = (await metric.get()).values as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
    return values
      .filter((v) => (v.metricName ?? name) === series && Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((sum, v) => sum + v.value, 0);
  };
  /** Waits until `eventId` is in the inbox: handled and committed, or seen as a duplicate of one that was. */
  const handled = (eventId: string) =>
    until(
      async () => (await service.context.db.query('SELECT 1 FROM junction_inbox WHERE event_id = $1', [eventId])).rows.length > 0,
      30_000,
      `event ${eventId} to be handled`,
    );

  it('counts a placed order once: not again for a replay of its Idempotency-Key, nor for a refused request', async () => {
    const before = await kpi('junction_orders_placed_total');
    const key = randomUUID();
    expect((await place(example, { 'idempotency-key': key })).status).toBe(201);
    expect((await place(example, { 'idempotency-key': key })).status).toBe(200);
    expect((await place({ ...example, total: '1.00' })).status).toBe(422);
    expect((await place({ ...example, couponCode: 'OTHER' }, { 'idempotency-key': key })).status).toBe(422);
    expect(await kpi('junction_orders_placed_total')).toBe(before + 1);
  });

  it('counts a confirmation once, however often its payment comes, with its revenue and placed→confirmed time', async () => {
    const before = {
      confirmed: await kpi('junction_orders_confirmed_total'),
      revenue: await kpi('junction_orders_revenue_total', { currency: 'EUR' }),
      timed: await kpi('junction_orders_placed_to_confirmed_seconds_count'),
    };
    const orderId = await newOrder();
    const payment = sampleEvent('com.junction.billing.PaymentCaptured', orderId);
    const captured = randomUUID();
    // The same event twice (the inbox drops the copy), then another capture for the same order (the handler runs; the order is past it).
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: captured });
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: captured });
    const another = randomUUID();
    await publisher.publish('com.junction.billing.PaymentCaptured', payment, { id: another });
    await handled(another);
    await until(async () => (await kpi('junction_orders_confirmed_total')) > before.confirmed, 10_000, 'the confirmation to be counted');
    expect(await kpi('junction_orders_confirmed_total')).toBe(before.confirmed + 1);
    // The README example: 28.20 EUR, in major units.
    expect((await kpi('junction_orders_revenue_total', { currency: 'EUR' })) - before.revenue).toBeCloseTo(28.2, 6);
    expect(await kpi('junction_orders_placed_to_confirmed_seconds_count')).toBe(before.timed + 1);
  });

  it('counts cancellations once each, by reason: stock-rejected, payment-failed, customer', async () => {
    const reasons = ['stock-rejected', 'payment-failed', 'customer'] as const;
    const before = Object.fromEntries(
      await Promise.all(reasons.map(async (reason) => [reason, await kpi('junction_orders_cancelled_total', { reason })] as const)),
    );
    const rejected = await newOrder();
    const rejection = sampleEvent('com.junction.inventory.StockRejected', rejected);
    await publisher.publish('com.junction.inventory.StockRejected', rejection);
    const again = randomUUID();
    await publisher.publish('com.junction.inventory.StockRejected', rejection, { id: again });
    const failed = await newOrder();
    const failure = randomUUID();
    await publisher.publish('com.junction.billing.PaymentFailed', sampleEvent('com.junction.billing.PaymentFailed', failed), {
      id: failure,
    });
    const mine = await newOrder();
    const cancel = () =>
      fetch(`${service.url}/orders/${mine}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-junction-client': 'shop' },
        body: '{}',
      });
    expect((await cancel()).status).toBe(200);
    expect((await cancel()).status).toBe(409);
    await handled(again);
    await handled(failure);
    const after = async (reason: (typeof reasons)[number]) =>
      (await kpi('junction_orders_cancelled_total', { reason })) - (before[reason] ?? 0);
    await until(
      async () => (await after('payment-failed')) > 0 && (await after('stock-rejected')) > 0,
      10_000,
      'the cancellations to be counted',
    );
    expect(await after('stock-rejected')).toBe(1);
    expect(await after('payment-failed')).toBe(1);
    expect(await after('customer')).toBe(1);
    // The free text of a reason never becomes a label value.
    const labels = ((await service.context.metrics.registry.getSingleMetric('junction_orders_cancelled_total')?.get())?.values ?? []).map(
      (v) => v.labels.reason,
    );
    expect(new Set(labels)).toEqual(new Set(reasons));
  });

  it('lets its customer cancel once (then 409), and shows an order to no other client (404)', async () => {
    const orderId = await newOrder();
    const cancel = (body: unknown = { reason: 'changed my mind' }) =>
      fetch(`${service.url}/orders/${orderId}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-junction-client': 'shop' },
        body: JSON.stringify(body),
      });
    // The body is optional, but one that is there must be an object: a JSON null is not "no body".
    expect((await cancel(null)).status).toBe(400);
    const first = await cancel();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'cancelled', cancelReason: 'changed my mind' });
    // Billing's refund of it joins the history, changing no status.
    await publisher.publish('com.junction.billing.PaymentRefunded', sampleEvent('com.junction.billing.PaymentRefunded', orderId));
    await until(
      async () =>
        ((await (await get(orderId)).json()) as { history: Array<{ event: string }> }).history.at(-1)?.event === 'PaymentRefunded',
      30_000,
      'the refund in the history',
    );
    expect(await (await get(orderId)).json()).toMatchObject({ status: 'cancelled' });
    const second = await cancel();
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ code: 'state.conflict' });
    expect((await get(orderId, 'someone-else')).status).toBe(404);
    expect((await get('not-a-uuid')).status).toBe(404);
  });

  it("lists the caller's orders by id (up to 100) or the most recent, never another client's, and says what is wrong with a bad query", async () => {
    const list = (query: string, client = 'shop') => fetch(`${service.url}/orders?${query}`, { headers: { 'x-junction-client': client } });
    const first = await newOrder();
    await new Promise((settle) => setTimeout(settle, 5)); // a later placedAt, for the most-recent order
    const second = await newOrder();
    const mine = await list(`id=${first}&id=${second}&id=${randomUUID()}`);
    expect(mine.status).toBe(200);
    const { orders } = (await mine.json()) as { orders: Array<{ orderId: string; status: string; placedAt: string; updatedAt: string }> };
    expect(orders.map((o) => o.orderId).sort()).toEqual([first, second].sort());
    expect(orders[0]).toMatchObject({ total: '28.20', currency: 'EUR', cancelReason: null });
    expect(orders[0]).not.toHaveProperty('history');

    const one = (await (await list(`id=${second}`)).json()) as { orders: Array<{ orderId: string }> };
    expect(one.orders.map((o) => o.orderId)).toEqual([second]);
    const recent = (await (await list('limit=2')).json()) as { orders: Array<{ orderId: string }> };
    expect(recent.orders.map((o) => o.orderId)).toEqual([second, first]);
    expect(((await (await list(`id=${first}`, 'someone-else')).json()) as { orders: unknown[] }).orders).toEqual([]);

    const bad = await list(`id=not-a-uuid&limit=500&sort=asc`);
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('request.invalid');
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['(query)', '(query).id', '(query).limit']);
    const tooMany = await list(Array.from({ length: 101 }, () => `id=${randomUUID()}`).join('&'));
    expect(tooMany.status).toBe(400);
  });
});
