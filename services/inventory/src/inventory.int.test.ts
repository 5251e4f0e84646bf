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
});
