import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type OrderCancelReason, orderKpis } from './kpis.ts';
import { METRICS } from './metric-names.ts';

/** The samples of one metric of `registry`, each as its labels and value. */
async function samples(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values as { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/** The cancellations of `registry` by reason, in the table's order. */
const byReason = async (registry: Registry) =>
  (await samples(registry, METRICS.ordersCancelled.name)).map((s) => [s.labels.reason, s.value]);

describe('orderKpis', () => {
  it('registers the KPIs once per registry, and only where asked for', () => {
    const registry = new Registry();
    expect(registry.getSingleMetric(METRICS.ordersPlaced.name)).toBeUndefined();
    const kpis = orderKpis({ registry });
    expect(orderKpis({ registry })).toBe(kpis);
    expect(orderKpis({ registry: new Registry() })).not.toBe(kpis);
  });

  it('starts the counters at 0, every cancellation reason included, so the first order is an increase', async () => {
    const registry = new Registry();
    orderKpis({ registry });
    expect(await samples(registry, METRICS.ordersPlaced.name)).toEqual([{ labels: {}, value: 0 }]);
    expect(await samples(registry, METRICS.ordersConfirmed.name)).toEqual([{ labels: {}, value: 0 }]);
    expect(await byReason(registry)).toEqual([
      ['stock-rejected', 0],
      ['payment-failed', 0],
      ['customer', 0],
    ]);
  });

  it('counts confirmations, adds exact revenue per currency in major units, and times placed → confirmed', async () => {
    const registry = new Registry();
    const kpis = orderKpis({ registry });
    const now = Date.now();
    kpis.placed();
    kpis.placed();
    // 0.10 a thousand times is 100.00 exactly, not the float sum 99.9999999999986.
    for (let i = 0; i < 1000; i += 1) kpis.confirmed({ totalCents: 10n, currency: 'EUR', placedAt: new Date(now - 40) });
    kpis.confirmed({ totalCents: 2820n, currency: 'GBP', placedAt: new Date(now - 3000) });
    kpis.confirmed({ totalCents: 100n, currency: 'E$R', placedAt: new Date(now + 60_000) });
    expect(await samples(registry, METRICS.ordersPlaced.name)).toEqual([{ labels: {}, value: 2 }]);
    expect(await samples(registry, METRICS.ordersConfirmed.name)).toEqual([{ labels: {}, value: 1002 }]);
    expect((await samples(registry, METRICS.ordersRevenue.name)).map((s) => [s.labels.currency, s.value])).toEqual([
      ['EUR', 100],
      ['GBP', 28.2],
      ['other', 1],
    ]);
    const histogram = await samples(registry, METRICS.ordersConfirmationDuration.name);
    const bucket = (le: number | string) => histogram.find((s) => s.metricName?.endsWith('_bucket') && s.labels.le === le)?.value;
    // A clock that put placed_at in the future counts as 0 s, not as a negative time.
    expect(bucket(0.01)).toBe(1);
    expect(bucket(0.05)).toBe(1001);
    expect(bucket(2.5)).toBe(1001);
    expect(bucket(5)).toBe(1002);
    expect(bucket('+Inf')).toBe(1002);
  });

  it('counts cancellations by their closed reason, and refuses any other value', async () => {
    const registry = new Registry();
    const kpis = orderKpis({ registry });
    kpis.cancelled('stock-rejected');
    kpis.cancelled('customer');
    kpis.cancelled('customer');
    expect(() => kpis.cancelled('out of stock: BOOK-0001' as OrderCancelReason)).toThrow(/not a cancellation reason/);
    expect(await byReason(registry)).toEqual([
      ['stock-rejected', 1],
      ['payment-failed', 0],
      ['customer', 2],
    ]);
  });
});
