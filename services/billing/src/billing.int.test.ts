import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Publisher } from '@junction/events';
import { sampleEvent, until } from '@junction/events/testing';
import { createStandin, type LedgerEntry } from '@junction/payment-provider-standin';
import type { RunningService } from '@junction/service';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingService } from './service.ts';

describe('the billing service, against the real stack and the payment provider stand-in', { timeout: 120_000 }, () => {
  let world: ServiceUnderTest;
  let service: RunningService;
  let publisher: Publisher;
  let provider: Server;
  let ledger: readonly LedgerEntry[];
  // Every other provider call fails with a 503 first: billing must still charge each order once.
  let calls = 0;

  beforeAll(async () => {
    const standin = createStandin({ latencyMs: 5, failureRate: 0.5, cardLimit: '100.00', random: () => (calls++ % 2 === 0 ? 0 : 0.99) });
    ledger = standin.ledger;
    provider = createServer(standin.handle);
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    world = await serviceUnderTest(billingService, {
      JUNCTION_BILLING_PROVIDER_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
    });
    ({ service, publisher } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    provider?.close();
  });

  const sent = async (orderId: string): Promise<string[]> => {
    const { rows } = await service.context.db.query(
      'SELECT event_type FROM junction_outbox WHERE key = $1 AND sent_at IS NOT NULL ORDER BY seq',
      [orderId],
    );
    return (rows as Array<{ event_type: string }>).map((r) => r.event_type.replace('com.junction.billing.', ''));
  };
  const order = (total = '44.48') => {
    const orderId = randomUUID();
    return {
      orderId,
      placed: {
        ...sampleEvent('com.junction.orders.OrderPlaced', orderId),
        lines: [{ sku: 'SKU-LAMP', quantity: 1, unitPrice: total }],
        total,
      },
    };
  };

  it('charges a reserved order once through a flaky provider, answers PaymentCaptured, and refunds it when cancelled', async () => {
    const { orderId, placed } = order();
    await publisher.publish('com.junction.orders.OrderPlaced', placed);
    const reserved = sampleEvent('com.junction.inventory.StockReserved', orderId);
    await publisher.publish('com.junction.inventory.StockReserved', reserved);
    await publisher.publish('com.junction.inventory.StockReserved', reserved);
    await until(async () => (await sent(orderId)).length === 1, 60_000, 'PaymentCaptured');
    expect(await sent(orderId)).toEqual(['PaymentCaptured']);
    const charges = ledger.filter((e) => e.kind === 'charge' && e.reference === orderId);
    expect(charges).toMatchObject([{ status: 'captured', amount: '44.48', currency: 'EUR' }]);

    await publisher.publish('com.junction.orders.OrderCancelled', sampleEvent('com.junction.orders.OrderCancelled', orderId));
    await until(async () => (await sent(orderId)).length === 2, 60_000, 'PaymentRefunded');
    expect(await sent(orderId)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(ledger.filter((e) => e.kind === 'refund' && e.reference === charges[0]?.id)).toHaveLength(1);
    const payment = (await (await fetch(`${service.url}/billing/payments/${orderId}`)).json()) as { status: string };
    expect(payment.status).toBe('refunded');
  });

  it('answers PaymentFailed when the provider declines, and charges nothing', async () => {
    const { orderId, placed } = order('100.01');
    await publisher.publish('com.junction.orders.OrderPlaced', placed);
    await publisher.publish('com.junction.inventory.StockReserved', sampleEvent('com.junction.inventory.StockReserved', orderId));
    await until(async () => (await sent(orderId)).length === 1, 60_000, 'PaymentFailed');
    expect(await sent(orderId)).toEqual(['PaymentFailed']);
    expect(ledger.filter((e) => e.reference === orderId).map((e) => e.status)).toEqual(['declined']);
  });

  it('waits for an OrderPlaced that StockReserved overtook, then charges; never charges an order cancelled first', async () => {
    const early = order();
    await publisher.publish('com.junction.inventory.StockReserved', sampleEvent('com.junction.inventory.StockReserved', early.orderId));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await publisher.publish('com.junction.orders.OrderPlaced', early.placed);
    await until(async () => (await sent(early.orderId)).length === 1, 60_000, 'the overtaken order to be charged');
    expect(await sent(early.orderId)).toEqual(['PaymentCaptured']);

    const cancelled = order();
    await publisher.publish('com.junction.orders.OrderPlaced', cancelled.placed);
    await publisher.publish('com.junction.orders.OrderCancelled', sampleEvent('com.junction.orders.OrderCancelled', cancelled.orderId));
    await until(
      async () =>
        (await service.context.db.query('SELECT 1 FROM orders WHERE order_id = $1 AND cancelled', [cancelled.orderId])).rows.length === 1,
      30_000,
      'the cancellation',
    );
    const marker = randomUUID();
    await publisher.publish(
      'com.junction.inventory.StockReserved',
      sampleEvent('com.junction.inventory.StockReserved', cancelled.orderId),
      { id: marker },
    );
    await until(
      async () => (await service.context.db.query('SELECT 1 FROM junction_inbox WHERE event_id = $1', [marker])).rows.length === 1,
      30_000,
      'the late reservation',
    );
    expect(await sent(cancelled.orderId)).toEqual([]);
    expect(ledger.filter((e) => e.reference === cancelled.orderId)).toEqual([]);
  });
});
