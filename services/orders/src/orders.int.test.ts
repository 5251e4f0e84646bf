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
});
