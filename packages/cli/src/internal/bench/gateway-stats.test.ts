import { join } from 'node:path';
import { eventContract, eventVersion, loadCatalog, validate } from '@junction/events';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../paths.ts';
import {
  CONCURRENCY_HEADROOM,
  calibratedConnections,
  type LoadRun,
  type LoadSummary,
  laneBudgets,
  mean,
  orderPlaced,
  SUMMARY_HEADERS,
  summarise,
  summaryRow,
  verdictOf,
} from './gateway-stats.ts';

const run = (overrides: Partial<LoadRun>): LoadRun => ({
  side: 'gateway',
  load: 'fixed',
  ok: 0,
  failed: 0,
  seconds: 1,
  latencies: [],
  ...overrides,
});

describe('summarise', () => {
  it('reads percentiles of the successful latencies, in any order, and the rates of what finished', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i);
    const summary = summarise(run({ ok: 100, failed: 25, seconds: 5, latencies }));
    expect(summary).toMatchObject({ requests: 125, rate: 25, okRate: 20, p50Ms: 50, p90Ms: 90, p99Ms: 99, maxMs: 100, errorRatio: 0.2 });
  });

  it('sorts numerically, not as text', () => {
    expect(summarise(run({ ok: 3, latencies: [9, 10, 100] })).maxMs).toBe(100);
    expect(summarise(run({ ok: 2, latencies: [10, 9] })).p50Ms).toBe(9);
  });

  it('is zeros, not NaN, when nothing finished', () => {
    const summary = summarise(run({ seconds: 0 }));
    expect(summary).toMatchObject({ requests: 0, rate: 0, okRate: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, errorRatio: 0 });
  });
});

describe('laneBudgets', () => {
  it("splits the rate as autocannon's overallRate does, the remainder to the first lanes", () => {
    expect(laneBudgets(1000, 20)).toEqual(Array.from({ length: 20 }, () => 50));
    expect(laneBudgets(10, 3)).toEqual([4, 3, 3]);
    expect(laneBudgets(10, 3).reduce((a, b) => a + b)).toBe(10);
  });

  it('has no lane without a request: at most `rate` lanes', () => {
    expect(laneBudgets(3, 20)).toEqual([1, 1, 1]);
    expect(laneBudgets(1, 1)).toEqual([1]);
  });
});

describe('calibratedConnections', () => {
  it("keeps rate × latency in flight by Little's law, with the headroom, rounded up", () => {
    expect(CONCURRENCY_HEADROOM).toBe(1.5);
    // 1,000/s at 2 ms: 2 in flight, 3 with headroom.
    expect(calibratedConnections(1000, 2)).toBe(3);
    // 1,000/s at 2.5 ms: 2.5 → 3.75 → 4.
    expect(calibratedConnections(1000, 2.5)).toBe(4);
    expect(calibratedConnections(1000, 20)).toBe(30);
    expect(calibratedConnections(1000, 2, 1)).toBe(2);
  });

  it('is at least one connection, at most one per request of the second, and 1 without a measurement', () => {
    expect(calibratedConnections(1000, 0.1)).toBe(1);
    expect(calibratedConnections(10, 5000)).toBe(10);
    for (const latency of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(calibratedConnections(1000, latency)).toBe(1);
  });
});

describe('mean', () => {
  it('is the average, and 0 of nothing', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(mean([])).toBe(0);
  });
});

const summary = (overrides: Partial<LoadSummary>): LoadSummary => ({
  side: 'gateway',
  load: 'fixed',
  requests: 10_000,
  seconds: 10,
  rate: 1000,
  okRate: 1000,
  p50Ms: 2,
  p90Ms: 3,
  p99Ms: 5,
  maxMs: 9,
  errorRatio: 0,
  ...overrides,
});

describe('verdictOf', () => {
  const raw = { fixed: summary({ side: 'raw', p99Ms: 4 }), max: summary({ side: 'raw', load: 'max', okRate: 8000 }) };

  it('subtracts the p99s at the fixed rate and divides the successful rates at max', () => {
    const verdict = verdictOf({ gateway: { fixed: summary({ p99Ms: 7.5 }), max: summary({ load: 'max', okRate: 2000 }) }, raw }, 1000, 5);
    expect(verdict).toEqual({ addedP99Ms: 3.5, throughputRatio: 0.25, meets: true });
  });

  it('misses above the target', () => {
    expect(verdictOf({ gateway: { fixed: summary({ p99Ms: 9.5 }), max: summary({ load: 'max' }) }, raw }, 1000, 5).meets).toBe(false);
  });

  it('misses when the gateway did not hold the rate, or failed requests, however fast the rest were', () => {
    const slow = summary({ p99Ms: 4, okRate: 900 });
    const failing = summary({ p99Ms: 4, errorRatio: 0.01 });
    for (const fixed of [slow, failing]) {
      expect(verdictOf({ gateway: { fixed, max: summary({ load: 'max' }) }, raw }, 1000, 5).meets).toBe(false);
    }
  });

  it('has a ratio of 0, not Infinity, when the raw side published nothing', () => {
    const none = { ...raw, max: summary({ side: 'raw', load: 'max', okRate: 0 }) };
    expect(verdictOf({ gateway: { fixed: summary({}), max: summary({ load: 'max' }) }, raw: none }, 1000, 5).throughputRatio).toBe(0);
  });
});

describe('summaryRow', () => {
  it('has a cell under each header: path, load, requests, seconds, rate, latencies, errors', () => {
    const connections = { fixed: 4, max: 20 };
    const row = summaryRow(summary({ requests: 12_345, rate: 1234.4, p50Ms: 2.345, p99Ms: 12.34, errorRatio: 0.0123 }), 1000, connections);
    expect(row).toHaveLength(SUMMARY_HEADERS.length);
    expect(row).toEqual([
      'gateway (HTTP)',
      'fixed 1,000/s, ≤ 4 in flight',
      '12,345',
      '10.0',
      '1,234',
      '2.35',
      '3.00',
      '12.3',
      '9.00',
      '1.23 %',
    ]);
    expect(summaryRow(summary({ side: 'raw', load: 'max' }), 1000, connections).slice(0, 2)).toEqual([
      'raw publisher',
      'max, 20 in flight',
    ]);
  });
});

describe('orderPlaced', () => {
  it('is a valid OrderPlaced of the latest version, as the gateway checks it', async () => {
    const catalog = await loadCatalog(join(repositoryRoot(), 'schemas'));
    const schema = eventVersion(eventContract(catalog, 'com.junction.orders.OrderPlaced')).schema;
    expect(validate(schema, JSON.parse(JSON.stringify(orderPlaced())))).toEqual([]);
  });

  it('is a distinct order each time', () => {
    expect(orderPlaced().orderId).not.toBe(orderPlaced().orderId);
  });
});
