import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { type Stack, startStack } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventContract } from '../contracts/catalog.ts';
import { countRecords, type PrivateContracts, privateContracts, type ReadRecord, readRecords } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { createPublisher, type Publisher } from './publisher.ts';

// Pauses the broker (SIGSTOP), so this file starts a Kafka of its own instead of the shared one.

const CANCELLED = 'com.junction.orders.OrderCancelled';
const LIMIT = 256 * 1024;
const OFFERED = 20_000;
/** ~10 KiB of text per event: 20,000 of them would be ~200 MB if the publisher kept them all. */
const REASON = 'x'.repeat(10 * 1024);

let dir: string;
let stack: Stack;
let contracts: PrivateContracts;
let publisher: Publisher;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-backpressure-'));
  stack = await startStack({ stateDir: dir, ports: 'auto', registry: { storage: 'memory' }, postgres: false, redis: false });
  contracts = await privateContracts({ brokers: stack.brokers, registryUrl: stack.schemaRegistryUrl as string, partitions: 3 });
  publisher = createPublisher({
    service: 'orders',
    kafka: { brokers: stack.brokers },
    registry: { url: stack.schemaRegistryUrl as string },
    catalog: contracts.catalog,
    maxInFlightBytes: LIMIT,
    maxBatchBytes: 64 * 1024,
    backpressureTimeoutMs: 300,
    sendTimeoutMs: 2000,
    retry: { retries: 2, initialMs: 50, maxMs: 200 },
  });
});

afterAll(async () => {
  stack?.kill('kafka-1', 'SIGCONT');
  await publisher?.close().catch(() => {});
  await contracts?.cleanup().catch(() => {});
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('backpressure while the broker is paused', () => {
  it('holds at most maxInFlightBytes, turns the rest away with publisher.backpressure, and recovers', async () => {
    const key = randomUUID();
    // Connected, with the schema id and partitions known: from here on only Kafka can hold things up.
    await publisher.publish(CANCELLED, sampleEvent(CANCELLED, key));

    expect(stack.kill('kafka-1', 'SIGSTOP')).toBe(true);
    // Resumed whatever happens here: the next test needs a broker that answers.
    try {
      await offerWhilePaused(key);
    } finally {
      stack.kill('kafka-1', 'SIGCONT');
    }
    await publisher.flush();
    expect(publisher.stats.inFlightBytes).toBe(0);
    // Once Kafka answers again, publishing works again.
    await expect(publisher.publish(CANCELLED, sampleEvent(CANCELLED, key))).resolves.toMatchObject({ key });
  });
});

/** Offers OFFERED large events of `key` to the paused broker; checks what the publisher held and what it answered. */
async function offerWhilePaused(key: string): Promise<void> {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const held = () => publisher.stats.inFlightBytes + publisher.stats.waitingBytes;
  let highest = 0;
  let grown = 0;
  const outcomes: Array<Promise<string>> = [];
  for (let i = 0; i < OFFERED; i += 1) {
    const data = { ...sampleEvent(CANCELLED, key), reason: REASON };
    outcomes.push(
      publisher.publish(CANCELLED, data).then(
        () => 'published',
        (error: unknown) => (error instanceof JunctionError ? error.code : 'other'),
      ),
    );
    highest = Math.max(highest, held());
    // A service publishes over time, not in one synchronous loop: the event loop turns meanwhile.
    if (i % 100 === 99) await new Promise((next) => setImmediate(next));
    if (i % 2000 === 1999) {
      globalThis.gc?.();
      const now = process.memoryUsage();
      grown = Math.max(grown, now.heapUsed + now.arrayBuffers - (before.heapUsed + before.arrayBuffers));
    }
  }
  const codes = await Promise.all(outcomes);

  const count = (code: string) => codes.filter((c) => c === code).length;
  // Nothing is reported as published while Kafka cannot acknowledge it.
  expect(count('published')).toBe(0);
  expect(count('publisher.backpressure')).toBeGreaterThan(OFFERED * 0.9);
  // The rest were in the request Kafka never answered (it may have written them), or queued behind
  // it, or — on a slower machine, where offering takes longer than a send's timeout — in a batch
  // whose new producer (the old one is replaced after a failed request) found no connection to
  // the paused broker: 'timeout', nothing sent.
  const tally = JSON.stringify(Object.fromEntries([...new Set(codes)].map((code) => [code, count(code)])));
  const turnedAway = ['publisher.backpressure', 'publisher.outcome-unknown', 'broker.unavailable', 'timeout'];
  expect(
    turnedAway.reduce((sum, code) => sum + count(code), 0),
    tally,
  ).toBe(OFFERED);
  // Accepted plus waiting bytes never pass twice the limit; memory grows by far less than was offered.
  expect(highest).toBeLessThanOrEqual(2 * LIMIT);
  expect(grown).toBeLessThan(64 * 1024 * 1024);
}

describe('a request that fails mid-stream', () => {
  it('sends nothing queued behind it, so a caller that publishes again in order keeps every key in order', {
    timeout: 120_000,
  }, async () => {
    const keys: string[] = Array.from({ length: 20 }, () => randomUUID());
    // Each key streams until `end`: before, during and after a three-second pause of the broker.
    const end = Date.now() + 7000;
    const ids = new Map<string, string>();
    const streamer = createPublisher({
      service: 'orders',
      kafka: { brokers: stack.brokers },
      registry: { url: stack.schemaRegistryUrl as string },
      catalog: contracts.catalog,
      sendTimeoutMs: 1000,
      backpressureTimeoutMs: 1000,
      retry: { retries: 2, initialMs: 50, maxMs: 200 },
    });
    let failures = 0;
    // Each key pipelines five events at a time; after a failure it publishes again from the first
    // event not acknowledged (same ce_id), as a careful caller does.
    const worker = async (key: string) => {
      let next = 0;
      let unacknowledged = false;
      while (Date.now() < end || unacknowledged) {
        const window = Array.from({ length: 5 }, (_, i) => next + i);
        const outcomes = await Promise.allSettled(
          window.map((seq) => {
            const id = ids.get(`${key}/${seq}`) ?? randomUUID();
            ids.set(`${key}/${seq}`, id);
            return streamer.publish(CANCELLED, sampleEvent(CANCELLED, key), { id, headers: { 'x-seq': String(seq) } });
          }),
        );
        const failed = outcomes.findIndex((outcome) => outcome.status === 'rejected');
        unacknowledged = failed !== -1;
        if (failed === -1) next += window.length;
        else {
          failures += 1;
          next += failed;
          await new Promise((retry) => setTimeout(retry, 100));
        }
      }
    };
    try {
      const running = Promise.all(keys.map(worker));
      await new Promise((later) => setTimeout(later, 1000));
      expect(stack.kill('kafka-1', 'SIGSTOP')).toBe(true);
      await new Promise((later) => setTimeout(later, 3000));
      expect(stack.kill('kafka-1', 'SIGCONT')).toBe(true);
      await running;
    } finally {
      stack.kill('kafka-1', 'SIGCONT');
      await streamer.close();
    }
    expect(failures).toBeGreaterThan(0);

    const topic = eventContract(contracts.catalog, CANCELLED).topic;
    const records = (await readRecords(contracts.kafka, [topic], await countRecords(contracts.admin, [topic]))).filter((r) =>
      keys.includes(r.key),
    );
    const firsts = new Map<string, ReadRecord>();
    for (const record of records.toSorted((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))) {
      if (!firsts.has(record.headers.ce_id as string)) firsts.set(record.headers.ce_id as string, record);
    }
    // Every event is there, and each key's events first appear in the order they were published.
    expect(new Set(firsts.keys())).toEqual(new Set(ids.values()));
    const last = new Map<string, number>();
    for (const record of firsts.values()) {
      const seq = Number(record.headers['x-seq']);
      expect(seq, `key ${record.key}`).toBe((last.get(record.key) ?? -1) + 1);
      last.set(record.key, seq);
    }
  });
});
