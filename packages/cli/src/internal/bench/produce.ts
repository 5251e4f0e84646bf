import { randomBytes, randomUUID } from 'node:crypto';
import {
  avroType,
  type Catalog,
  createAvroCodec,
  createPublisher,
  createTopicsReady,
  eventContract,
  eventVersion,
  frame,
  prepareEvent,
  renameTopics,
} from '@junction/events';
import { Kafka, logLevel, type Message } from 'kafkajs';

/** What `bench produce` measures, and against what. */
export interface ProduceBenchOptions {
  brokers: string[];
  registryUrl: string;
  catalog: Catalog;
  /** Events per run. */
  events: number;
  /** Avro body size of each event, in bytes. */
  size: number;
  /** Distinct keys, spread round robin. */
  keys: number;
  /** Publishes outstanding at once (Junction); messages per send (raw kafkajs). */
  window: number;
  partitions: number;
  /** Called about once a second with the run's name and how far it is. */
  onProgress?: (run: string, done: number, total: number) => void;
}

/** One run's numbers. */
export interface RunResult {
  name: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Produce requests sent, when known. */
  requests?: number;
}

/** Both runs, and Junction's throughput as a fraction of raw kafkajs's. */
export interface ProduceBenchResult {
  topic: string;
  eventBytes: number;
  raw: RunResult;
  junction: RunResult;
  ratio: number;
}

const TYPE = 'com.junction.orders.OrderCancelled';

/** The value at fraction `q` of sorted `values`. */
export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function result(name: string, latencies: number[], started: number, bytes: number, requests?: number): RunResult {
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.toSorted((a, b) => a - b);
  return {
    name,
    events: latencies.length,
    seconds,
    eventsPerSecond: latencies.length / seconds,
    megabytesPerSecond: (latencies.length * bytes) / seconds / 1e6,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    ...(requests === undefined ? {} : { requests }),
  };
}

/** An OrderCancelled whose Avro body is `size` bytes (its `reason` padded). */
function eventOfSize(catalog: Catalog, size: number): (key: string) => Record<string, unknown> {
  const schema = eventVersion(eventContract(catalog, TYPE)).schema;
  const make = (key: string, reason: string) => ({ orderId: key, reason, cancelledBy: 'bench', cancelledAt: new Date() });
  const base = avroType(schema).toBuffer(make(randomUUID(), '')).length;
  let pad = Math.max(0, size - base - 2);
  while (pad > 0 && avroType(schema).toBuffer(make(randomUUID(), 'x'.repeat(pad))).length > size) pad -= 1;
  const reason = 'x'.repeat(pad);
  return (key) => make(key, reason);
}

/** Runs `work` for indexes 0..total-1 with `window` of them in flight, reporting progress about once a second. */
async function pooled(total: number, window: number, work: (i: number) => Promise<void>, tick: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const timer = setInterval(() => tick(done), 1000);
  try {
    await Promise.all(
      Array.from({ length: Math.min(window, total) }, async () => {
        while (next < total) {
          const i = next;
          next += 1;
          await work(i);
          done += 1;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
}

/**
 * Sends the same keyed 1 KiB-style Avro events through raw kafkajs (pre-encoded buffers, sends of
 * `window` messages one after another: kafkajs used well) and through Junction's publisher
 * (one `publish` per event, `window` outstanding: validation, envelope, batching included). Both
 * use an idempotent producer with acks=all, on a fresh topic of their own, in the same process.
 */
export async function runProduceBench(options: ProduceBenchOptions): Promise<ProduceBenchResult> {
  const suffix = randomBytes(4).toString('hex');
  const catalog = renameTopics(options.catalog, (name) => `bench.${name.replace(/\./g, '-')}-${suffix}`);
  const contract = eventContract(catalog, TYPE);
  const topic = contract.topic;
  const kafka = new Kafka({ clientId: 'junction-bench', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const codec = createAvroCodec({ registryUrl: options.registryUrl });
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: options.partitions }]);
    const schemaId = await codec.register(contract.subject, eventVersion(contract).schema);
    const keys = Array.from({ length: options.keys }, () => randomUUID());
    const data = eventOfSize(catalog, options.size);
    const keyOf = (i: number) => keys[i % keys.length] as string;
    const eventBytes = avroType(eventVersion(contract).schema).toBuffer(data(keyOf(0))).length;

    // Raw kafkajs: the same events encoded up front, as a careful producer would send them.
    const source = '/junction/bench';
    const messages: Message[] = Array.from({ length: options.events }, (_, i) => {
      const prepared = prepareEvent(catalog, source, { type: TYPE, data: data(keyOf(i)) });
      return { key: prepared.key, value: frame(schemaId, prepared.body), headers: prepared.headers };
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    // Both runs start warm: connections open, metadata known, code compiled by the JIT.
    const warmUp = messages.slice(0, Math.min(messages.length, 2000));
    for (let at = 0; at < warmUp.length; at += options.window) {
      await producer.send({ topic, acks: -1, messages: warmUp.slice(at, at + options.window) });
    }
    const rawLatencies: number[] = [];
    let requests = 0;
    const rawStarted = performance.now();
    const timer = setInterval(() => options.onProgress?.('raw kafkajs', rawLatencies.length, options.events), 1000);
    try {
      for (let at = 0; at < messages.length; at += options.window) {
        const chunk = messages.slice(at, at + options.window);
        const sent = performance.now();
        await producer.send({ topic, acks: -1, messages: chunk });
        requests += 1;
        const took = performance.now() - sent;
        for (let i = 0; i < chunk.length; i += 1) rawLatencies.push(took);
      }
    } finally {
      clearInterval(timer);
      await producer.disconnect();
    }
    const raw = result('raw kafkajs', rawLatencies, rawStarted, eventBytes, requests);

    // Junction: one publish per event, validated and enveloped as any service would.
    const publisher = createPublisher({ service: 'bench', kafka, registry: codec, catalog });
    await Promise.all(warmUp.map((_, i) => publisher.publish(TYPE, data(keyOf(i)))));
    const requestsBefore = publisher.stats.requests;
    const latencies: number[] = [];
    const started = performance.now();
    await pooled(
      options.events,
      options.window,
      async (i) => {
        const sent = performance.now();
        await publisher.publish(TYPE, data(keyOf(i)));
        latencies.push(performance.now() - sent);
      },
      (done) => options.onProgress?.('junction', done, options.events),
    );
    const junction = result('junction', latencies, started, eventBytes, publisher.stats.requests - requestsBefore);
    await publisher.close();
    return { topic, eventBytes, raw, junction, ratio: junction.eventsPerSecond / raw.eventsPerSecond };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await fetch(`${options.registryUrl}/subjects/${encodeURIComponent(contract.subject)}`, {
      method: 'DELETE',
      signal: AbortSignal.timeout(5000),
    }).catch(() => {});
    await admin.disconnect();
  }
}
