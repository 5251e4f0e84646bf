import { randomUUID } from 'node:crypto';
import type { Publisher } from '@junction/events';
import { sampleEvent, until } from '@junction/events/testing';
import type { RunningService } from '@junction/service';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryService } from './service.ts';

interface Item {
  sku: string;
  available: number;
  reserved: number;
}

describe('the inventory service, against the real stack', { timeout: 120_000 }, () => {
  let world: ServiceUnderTest;
  let service: RunningService;
  let publisher: Publisher;

  beforeAll(async () => {
    world = await serviceUnderTest(inventoryService);
    ({ service, publisher } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const item = async (sku: string): Promise<Item> => (await (await fetch(`${service.url}/inventory/items/${sku}`)).json()) as Item;
  const total = async (): Promise<number> => {
    const { items } = (await (await fetch(`${service.url}/inventory/items`)).json()) as { items: Item[] };
    return items.reduce((sum, i) => sum + i.available + i.reserved, 0);
  };
  const answered = async (orderId: string): Promise<string[]> => {
    const { rows } = await service.context.db.query(
      'SELECT event_type FROM junction_outbox WHERE key = $1 AND sent_at IS NOT NULL ORDER BY seq',
      [orderId],
    );
    return (rows as Array<{ event_type: string }>).map((r) => r.event_type);
  };

  it('serves its seeded catalogue, and a 404 problem for an unknown SKU', async () => {
    expect(await item('SKU-LAMP')).toEqual({ sku: 'SKU-LAMP', name: 'Desk lamp', available: 200, reserved: 0 });
    const unknown = await fetch(`${service.url}/inventory/items/NOPE`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'route.unknown' });
  });

  it('reserves an order once, whatever is redelivered, answers StockReserved, and releases it on OrderCancelled', async () => {
    const before = await total();
    const orderId = randomUUID();
    const placed = sampleEvent('com.junction.orders.OrderPlaced', orderId);
    const id = randomUUID();
    await publisher.publish('com.junction.orders.OrderPlaced', placed, { id });
    await publisher.publish('com.junction.orders.OrderPlaced', placed, { id });
    await publisher.publish('com.junction.orders.OrderPlaced', placed);
    await until(async () => (await answered(orderId)).length === 1, 30_000, 'StockReserved');
    expect(await answered(orderId)).toEqual(['com.junction.inventory.StockReserved']);
    // The third copy (another id) is past the inbox but not past the reservation: still 2 lamps.
    await until(
      async () => (await service.context.db.query('SELECT count(*)::int AS n FROM junction_inbox')).rows.length > 0,
      5_000,
      'inbox',
    );
    expect(await item('SKU-LAMP')).toMatchObject({ available: 198, reserved: 2 });
    expect(await total()).toBe(before);

    await publisher.publish('com.junction.orders.OrderCancelled', sampleEvent('com.junction.orders.OrderCancelled', orderId));
    await until(async () => (await item('SKU-LAMP')).reserved === 0, 30_000, 'the release');
    expect(await item('SKU-LAMP')).toMatchObject({ available: 200, reserved: 0 });
    expect(await item('SKU-BULB')).toMatchObject({ available: 2000, reserved: 0 });
    expect(await total()).toBe(before);
  });

  it('rejects an order it cannot fill whole, naming each shortage, and takes nothing', async () => {
    const orderId = randomUUID();
    const placed = {
      ...sampleEvent('com.junction.orders.OrderPlaced', orderId),
      lines: [
        { sku: 'RARE-0001', quantity: 2, unitPrice: '100.00' },
        { sku: 'MUG-0007', quantity: 1, unitPrice: '8.00' },
      ],
      total: '208.00',
    };
    await publisher.publish('com.junction.orders.OrderPlaced', placed);
    await until(async () => (await answered(orderId)).length === 1, 30_000, 'StockRejected');
    expect(await answered(orderId)).toEqual(['com.junction.inventory.StockRejected']);
    const { rows } = await service.context.db.query('SELECT status, lines FROM reservations WHERE order_id = $1', [orderId]);
    expect(rows[0]).toMatchObject({ status: 'rejected' });
    expect(await item('MUG-0007')).toMatchObject({ available: 300, reserved: 0 });
    expect(await item('RARE-0001')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('gives the last unit to one of many orders racing for it, and reserves orders wanting the same SKUs in any line order', async () => {
    // RARE-0001 has one unit: twelve orders at once, each on its own key (so handled concurrently).
    const racing = Array.from({ length: 12 }, () => randomUUID());
    const rare = (orderId: string) => ({
      ...sampleEvent('com.junction.orders.OrderPlaced', orderId),
      lines: [{ sku: 'RARE-0001', quantity: 1, unitPrice: '4999.00' }],
      total: '4999.00',
    });
    // Two-SKU orders naming the SKUs in both orders: locks are taken in SKU order, so none deadlocks.
    const crossing = Array.from({ length: 12 }, () => randomUUID());
    const cross = (orderId: string, i: number) => ({
      ...sampleEvent('com.junction.orders.OrderPlaced', orderId),
      lines:
        i % 2 === 0
          ? [
              { sku: 'PEN-0042', quantity: 1, unitPrice: '3.20' },
              { sku: 'BOOK-0001', quantity: 1, unitPrice: '12.50' },
            ]
          : [
              { sku: 'BOOK-0001', quantity: 1, unitPrice: '12.50' },
              { sku: 'PEN-0042', quantity: 1, unitPrice: '3.20' },
            ],
      total: '15.70',
    });
    const [pens, books] = [await item('PEN-0042'), await item('BOOK-0001')];
    await Promise.all([
      ...racing.map((orderId) => publisher.publish('com.junction.orders.OrderPlaced', rare(orderId))),
      ...crossing.map((orderId, i) => publisher.publish('com.junction.orders.OrderPlaced', cross(orderId, i))),
    ]);
    const everyAnswer = async (ids: string[]) => Promise.all(ids.map(answered));
    await until(async () => (await everyAnswer([...racing, ...crossing])).every((a) => a.length === 1), 60_000, 'an answer to each order');
    const outcomes = (await everyAnswer(racing)).map((a) => a[0]);
    expect(outcomes.filter((o) => o === 'com.junction.inventory.StockReserved')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'com.junction.inventory.StockRejected')).toHaveLength(11);
    expect(await item('RARE-0001')).toMatchObject({ available: 0, reserved: 1 });
    expect((await everyAnswer(crossing)).every((a) => a[0] === 'com.junction.inventory.StockReserved')).toBe(true);
    expect(await item('PEN-0042')).toMatchObject({ available: pens.available - 12, reserved: pens.reserved + 12 });
    expect(await item('BOOK-0001')).toMatchObject({ available: books.available - 12, reserved: books.reserved + 12 });
  });

  it('restocks a SKU, and answers a bad restock with a problem naming the field', async () => {
    const post = (sku: string, body: unknown) =>
      fetch(`${service.url}/inventory/items/${sku}/restock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const before = await item('MUG-0007');
    const restocked = await post('MUG-0007', { quantity: 25 });
    expect(restocked.status).toBe(200);
    expect(await restocked.json()).toEqual({ ...before, available: before.available + 25 });

    const invalid = await post('MUG-0007', { quantity: 0, note: 'x' });
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('request.invalid');
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['(body)', 'quantity']);

    expect((await post('NOPE', { quantity: 1 })).status).toBe(404);
    // Near the column's limit, a restock that would pass it is refused and changes nothing.
    await service.context.db.query("UPDATE items SET available = 2147483000 WHERE sku = 'MUG-0007'");
    const over = await post('MUG-0007', { quantity: 1000 });
    expect(over.status).toBe(422);
    expect(await over.json()).toMatchObject({ code: 'request.unprocessable', errors: [{ path: 'quantity' }] });
    expect(await item('MUG-0007')).toMatchObject({ available: 2147483000 });
    await service.context.db.query('UPDATE items SET available = $1 WHERE sku = $2', [before.available, 'MUG-0007']);
  });
});
