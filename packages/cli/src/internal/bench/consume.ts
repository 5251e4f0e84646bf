import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Catalog,
  createAvroCodec,
  createPublisher,
  createSubscriber,
  createTopicsReady,
  eventContract,
  eventVersion,
  headersToStrings,
  memoryInbox,
  renameTopics,
  type Subscriber,
} from '@junction/events';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { consumerPerformance, type JavaConsume } from './kafka-java.ts';

/** What `bench consume` measures. */
export interface ConsumeBenchOptions {
  brokers: string[];
  registryUrl: string;
  catalog: Catalog;
  /** Events in the throughput comparison. */
  events: number;
  /** Events in the ordering comparison (5 ms handler). */
  slowEvents: number;
  keys: number;
  onProgress?: (message: string) => void;
}

/** One consumption run. */
export interface ConsumeRun {
  name: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

/** Both comparisons. */
export interface ConsumeBenchResult {
  raw: ConsumeRun;
  /** The per-record work of Junction's run written inline in raw kafkajs's loop: what any subscriber on kafkajs's thread pays. */
  inline: ConsumeRun;
  junction: ConsumeRun;
  /** Junction's throughput over raw kafkajs's. */
  ratio: number;
  /** Junction's throughput over the inline work's: what the subscriber's own layers cost. */
  inlineRatio: number;
  /** The inline work's throughput over raw kafkajs's: the most a subscriber that decodes and dedupes could reach. */
  inlineCeiling: number;
  /** Kafka's ConsumerPerformance (Java) on the same topic, and Junction's throughput over its fetching rate. */
  java?: JavaConsume;
  javaRatio?: number;
  javaError?: string;
  partitionMode: ConsumeRun;
  keyMode: ConsumeRun;
  /** Key mode's throughput over partition mode's, with an I/O-bound handler. */
  speedup: number;
}

const TYPE = 'com.junction.orders.OrderCancelled';

const run = (name: string, events: number, started: number): ConsumeRun => {
  const seconds = (performance.now() - started) / 1000;
  return { name, events, seconds, eventsPerSecond: events / seconds };
};

/** Resolves once `done()` holds; fails after `timeoutMs`, naming `what` did not finish. */
export async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not finish within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A fresh topic filled with `count` keyed events, and its catalog. */
async function filledTopic(
  options: ConsumeBenchOptions,
  partitions: number,
  count: number,
): Promise<{ catalog: Catalog; topic: string; drop(): Promise<void> }> {
  const suffix = randomBytes(4).toString('hex');
  const catalog = renameTopics(options.catalog, (name) => `bench.${name.replace(/\./g, '-')}-${suffix}`);
  const topic = eventContract(catalog, TYPE).topic;
  const kafka = new Kafka({ clientId: 'junction-bench-fill', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);
  const publisher = createPublisher({ service: 'bench', kafka, registry: { url: options.registryUrl }, catalog, autoRegister: true });
  const keys = Array.from({ length: options.keys }, () => randomUUID());
  for (let at = 0; at < count; at += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - at) }, (_, i) =>
        publisher.publish(TYPE, {
          orderId: keys[(at + i) % keys.length],
          reason: 'x'.repeat(900),
          cancelledBy: 'bench',
          cancelledAt: new Date(),
        }),
      ),
    );
    options.onProgress?.(`filled ${Math.min(count, at + 1000).toLocaleString('en')} of ${count.toLocaleString('en')} events`);
  }
  await publisher.close();
  return {
    catalog,
    topic,
    drop: async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    },
  };
}

/** Raw kafkajs: `eachBatch` over every message, resolving and committing, nothing else. */
async function rawRun(options: ConsumeBenchOptions, topic: string, count: number): Promise<ConsumeRun> {
  const kafka = new Kafka({ clientId: 'junction-bench-raw', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(4).toString('hex')}` });
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const started = performance.now();
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const message of batch.messages) {
        seen += message.value ? 1 : 0;
        resolveOffset(message.offset);
      }
      await commitOffsetsIfNecessary();
    },
  });
  await waitFor(() => seen >= count, 300_000, 'raw kafkajs');
  const result = run('raw kafkajs (eachBatch)', count, started);
  await consumer.disconnect();
  return result;
}

/**
 * The work Junction's run does for each record, written inline in raw kafkajs's `eachBatch`:
 * headers read into strings, the value decoded with the registry's writer schema into the
 * catalog's reader schema, its id remembered in a map (the dedupe), an awaited handler that does
 * nothing. No layers, no bookkeeping: between it and raw kafkajs lies what the work itself costs;
 * between Junction and it, what Junction's own layers cost.
 */
async function inlineRun(options: ConsumeBenchOptions, catalog: Catalog, count: number): Promise<ConsumeRun> {
  const contract = eventContract(catalog, TYPE);
  const reader = eventVersion(contract).schema;
  const codec = createAvroCodec({ registryUrl: options.registryUrl });
  const kafka = new Kafka({ clientId: 'junction-bench-inline', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-inline-${randomBytes(4).toString('hex')}` });
  const seenIds = new Map<string, number>();
  const handler = async (_data: unknown) => {};
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [contract.topic], fromBeginning: true });
  const started = performance.now();
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const message of batch.messages) {
        const headers = headersToStrings(message.headers);
        const value = message.value as Buffer;
        const decoded = codec.decodeNow(value, reader) ?? (await codec.decode(value, reader));
        const id = headers.ce_id ?? '';
        if (seenIds.get(id) === undefined) {
          seenIds.set(id, -1);
          await handler(decoded.value);
          seenIds.set(id, Date.now() + 3_600_000);
        }
        seen += 1;
        resolveOffset(message.offset);
      }
      await commitOffsetsIfNecessary();
    },
  });
  await waitFor(() => seen >= count, 300_000, 'the inline work');
  const result = run('the same work inline (headers, decode, dedupe, handler)', count, started);
  await consumer.disconnect();
  return result;
}

/** Deletes the retry and dead-letter topics a subscriber of `group` made: they are named after the group. */
export async function dropGroupTopics(admin: Admin, group: string): Promise<void> {
  const own = (await admin.listTopics().catch(() => [])).filter((topic) => topic.startsWith(`${group}.`));
  if (own.length) await admin.deleteTopics({ topics: own }).catch(() => {});
}

/** A Junction subscriber with `handler`, until `count` records are done; its retry and dead-letter topics go with it. */
async function junctionRun(
  options: ConsumeBenchOptions,
  name: string,
  catalog: Catalog,
  count: number,
  extra: { ordering?: 'partition' | 'key'; handlerMs?: number; dedupe?: boolean },
): Promise<ConsumeRun> {
  let done = 0;
  const group = `bench-${randomBytes(4).toString('hex')}`;
  const subscriber: Subscriber = createSubscriber({
    group,
    kafka: { brokers: options.brokers },
    registry: { url: options.registryUrl },
    catalog,
    ordering: extra.ordering ?? 'partition',
    maxConcurrency: 64,
    ...(extra.dedupe ? { idempotency: { store: memoryInbox({ maxEntries: count * 2 }), ttlMs: 3_600_000 } } : {}),
    handlers: {
      [TYPE]: async () => {
        if (extra.handlerMs) await new Promise((resolve) => setTimeout(resolve, extra.handlerMs));
      },
    },
    onOutcome: () => {
      done += 1;
    },
  });
  const admin = new Kafka({ clientId: 'junction-bench-admin', brokers: options.brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await subscriber.start();
    const started = performance.now();
    await waitFor(() => done >= count, 300_000, name);
    return run(name, count, started);
  } finally {
    await subscriber.stop({ deadlineMs: 5000 });
    await admin.connect();
    await dropGroupTopics(admin, group);
    await admin.disconnect();
  }
}

/**
 * Two comparisons in one run. Throughput: raw kafkajs `eachBatch` (iterate, resolve, commit)
 * against a Junction subscriber that decodes every event with the registry, deduplicates it and
 * commits, and against the same per-record work written inline in raw kafkajs's loop. Ordering: a handler that waits 5 ms (I/O), in `partition` mode against `key` mode on
 * 3 partitions.
 */
export async function runConsumeBench(options: ConsumeBenchOptions): Promise<ConsumeBenchResult> {
  const fast = await filledTopic(options, 6, options.events);
  let raw: ConsumeRun;
  let inline: ConsumeRun;
  let junction: ConsumeRun;
  let java: JavaConsume | undefined;
  let javaError: string | undefined;
  try {
    options.onProgress?.('raw kafkajs consuming');
    raw = await rawRun(options, fast.topic, options.events);
    options.onProgress?.('the same work inline consuming');
    inline = await inlineRun(options, fast.catalog, options.events);
    options.onProgress?.('junction consuming');
    junction = await junctionRun(options, 'junction (decode, dedupe, commit)', fast.catalog, options.events, { dedupe: true });
    options.onProgress?.("Kafka's ConsumerPerformance consuming");
    try {
      java = await consumerPerformance(options.brokers, fast.topic, options.events, (message) => options.onProgress?.(message));
    } catch (error) {
      javaError = (error as Error).message;
    }
  } finally {
    await fast.drop();
  }
  const slow = await filledTopic(options, 3, options.slowEvents);
  let partitionMode: ConsumeRun;
  let keyMode: ConsumeRun;
  try {
    options.onProgress?.('partition mode, 5 ms handler');
    partitionMode = await junctionRun(options, 'partition mode, 5 ms handler', slow.catalog, options.slowEvents, {
      ordering: 'partition',
      handlerMs: 5,
    });
    options.onProgress?.('key mode, 5 ms handler');
    keyMode = await junctionRun(options, 'key mode (64 at once), 5 ms handler', slow.catalog, options.slowEvents, {
      ordering: 'key',
      handlerMs: 5,
    });
  } finally {
    await slow.drop();
  }
  return {
    raw,
    inline,
    junction,
    ratio: junction.eventsPerSecond / raw.eventsPerSecond,
    inlineRatio: junction.eventsPerSecond / inline.eventsPerSecond,
    inlineCeiling: inline.eventsPerSecond / raw.eventsPerSecond,
    ...(java ? { java, javaRatio: junction.eventsPerSecond / java.fetchRecordsPerSecond } : {}),
    ...(javaError ? { javaError } : {}),
    partitionMode,
    keyMode,
    speedup: keyMode.eventsPerSecond / partitionMode.eventsPerSecond,
  };
}
