import { randomBytes, randomUUID } from 'node:crypto';
import { stackFromEnv } from '@junction/stack';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPublisher, type Publisher } from '../publisher/publisher.ts';
import { type PrivateContracts, privateContracts } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { createSubscriber } from './subscriber.ts';
import type { Subscriber } from './subscriber-options.ts';
import type { EventContext } from './types.ts';

// A slow handler under a fast producer: in-flight work and memory stay bounded, and a handler
// slower than the session timeout causes no rebalance.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const CANCELLED = 'com.junction.orders.OrderCancelled';

let contracts: PrivateContracts;
let publisher: Publisher;
let subscriber: Subscriber | undefined;

beforeEach(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
});

afterEach(async () => {
  await subscriber?.stop({ deadlineMs: 2000 });
  subscriber = undefined;
  await publisher.close();
  await contracts.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('backpressure', () => {
  it('pauses fetching above the in-flight bound and keeps memory flat before a backlog far larger than the handler can take', {
    timeout: 120_000,
  }, async () => {
    const maxRecords = 200;
    let handled = 0;
    // A backlog of 12,000 events of ~4 KiB (~48 MB), far more than the handler (~150 a second) can take.
    const reason = 'r'.repeat(4000);
    const keys = Array.from({ length: 30 }, () => randomUUID());
    for (let at = 0; at < 12_000; at += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          publisher.publish(CANCELLED, { ...sampleEvent(CANCELLED, keys[(at + i) % keys.length]), reason }),
        ),
      );
    }
    await publisher.flush();
    subscriber = createSubscriber({
      group: `test-${randomBytes(4).toString('hex')}`,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      maxInFlight: { records: maxRecords },
      handlers: {
        [CANCELLED]: async () => {
          await sleep(20);
          handled += 1;
        },
      },
    });
    globalThis.gc?.();
    const before = process.memoryUsage();
    let highest = 0;
    let paused = false;
    let grown = 0;
    const sampler = setInterval(() => {
      highest = Math.max(highest, subscriber?.stats.inFlightRecords ?? 0);
      paused ||= (subscriber?.stats.pausedPartitions ?? 0) > 0;
    }, 10);
    await subscriber.start();
    for (let second = 0; second < 6; second += 1) {
      await sleep(1000);
      globalThis.gc?.();
      const now = process.memoryUsage();
      grown = Math.max(grown, now.heapUsed + now.arrayBuffers - (before.heapUsed + before.arrayBuffers));
    }
    clearInterval(sampler);

    expect(paused).toBe(true);
    // At most the bound plus one fetched batch per partition (kafkajs hands over whole batches).
    expect(highest).toBeLessThanOrEqual(maxRecords + 3 * 300);
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(12_000);
    // The subscriber holds its bound and kafkajs's current fetch (up to 10 MiB), never the backlog.
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    expect(subscriber.stats.rebalances).toBe(0);
  });

  it('lets a handler run longer than the session timeout without a rebalance', { timeout: 120_000 }, async () => {
    const done: string[] = [];
    subscriber = createSubscriber({
      group: `test-${randomBytes(4).toString('hex')}`,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      sessionTimeoutMs: 6000,
      ordering: 'key',
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          await sleep(9000);
          done.push(ctx.event?.id ?? '');
        },
      },
    });
    await subscriber.start();
    const sent = await Promise.all(Array.from({ length: 3 }, () => publisher.publish(CANCELLED, sampleEvent(CANCELLED))));
    // Once all three handlers run, the group has settled: from here on they outlast the session.
    const deadline = Date.now() + 60_000;
    while (subscriber.stats.inFlightRecords < 3 && Date.now() < deadline) await sleep(50);
    const settled = subscriber.stats.rebalances;
    while (done.length < 3 && Date.now() < deadline) await sleep(200);
    expect(done.toSorted()).toEqual(sent.map((s) => s.id).toSorted());
    expect(subscriber.stats.rebalances).toBe(settled);
  });
});
