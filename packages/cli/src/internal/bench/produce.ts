import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AvroCodec,
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
import { type Admin, Kafka, logLevel, type Message } from 'kafkajs';
import { type JavaProduce, producerPerformance } from './kafka-java.ts';

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
  /** Runs of each, alternating which goes first. */
  rounds: number;
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

/** Every run, and Junction's median throughput as a fraction of each baseline's. */
export interface ProduceBenchResult {
  eventBytes: number;
  /** Raw kafkajs with Junction's CloudEvents headers: what the target is measured against. */
  raw: RunResult[];
  /** Raw kafkajs without headers: what kafkajs does when it only sends keys and values. */
  bare: RunResult[];
  junction: RunResult[];
  /** Junction / raw (with headers). */
  ratio: number;
  /** Junction / raw without headers. */
  bareRatio: number;
  /** Kafka's ProducerPerformance (Java) on the same broker, and Junction's median over it. */
  java?: JavaProduce;
  javaRatio?: number;
  javaError?: string;
}

const TYPE = 'com.junction.orders.OrderCancelled';
/** Events each run sends before it measures. */
const WARM_UP = 2000;

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
export function eventOfSize(catalog: Catalog, size: number): (key: string) => Record<string, unknown> {
  const schema = eventVersion(eventContract(catalog, TYPE)).schema;
  const make = (key: string, reason: string) => ({ orderId: key, reason, cancelledBy: 'bench', cancelledAt: new Date() });
  const base = avroType(schema).toBuffer(make(randomUUID(), '')).length;
  let pad = Math.max(0, size - base - 2);
  while (pad > 0 && avroType(schema).toBuffer(make(randomUUID(), 'x'.repeat(pad))).length > size) pad -= 1;
  const reason = 'x'.repeat(pad);
  return (key) => make(key, reason);
}

/** Runs `work` for indexes 0..total-1 with `window` of them in flight, reporting progress about once a second. */
export async function pooled(
  total: number,
  window: number,
  work: (i: number) => Promise<void>,
  tick: (done: number) => void,
): Promise<void> {
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

/** A topic of its own for one run, its subject registered; deleted by `drop`. */
export interface RunTopic {
  catalog: Catalog;
  topic: string;
  schemaId: number;
  drop(): Promise<void>;
}

/** Creates a {@link RunTopic} with the bench's partitions and registers its subject. */
export async function runTopic(options: ProduceBenchOptions, admin: Admin, codec: AvroCodec): Promise<RunTopic> {
  const suffix = randomBytes(4).toString('hex');
  const catalog = renameTopics(options.catalog, (name) => `bench.${name.replace(/\./g, '-')}-${suffix}`);
  const contract = eventContract(catalog, TYPE);
  await createTopicsReady(admin, [{ topic: contract.topic, numPartitions: options.partitions }]);
  const schemaId = await codec.register(contract.subject, eventVersion(contract).schema);
  return {
    catalog,
    topic: contract.topic,
    schemaId,
    drop: async () => {
      await admin.deleteTopics({ topics: [contract.topic] }).catch(() => {});
      await fetch(`${options.registryUrl}/subjects/${encodeURIComponent(contract.subject)}`, {
        method: 'DELETE',
        signal: AbortSignal.timeout(5000),
      }).catch(() => {});
    },
  };
}

/** What both runs share: the events' keys and data. */
export interface Workload {
  data: (key: string) => Record<string, unknown>;
  keyOf: (i: number) => string;
  eventBytes: number;
}

/** The keys and event data of `options`, the same for every run of a bench. */
export function workload(options: ProduceBenchOptions): Workload {
  const keys = Array.from({ length: options.keys }, () => randomUUID());
  const data = eventOfSize(options.catalog, options.size);
  const schema = eventVersion(eventContract(options.catalog, TYPE)).schema;
  return {
    data,
    keyOf: (i) => keys[i % keys.length] as string,
    eventBytes: avroType(schema).toBuffer(data(randomUUID())).length,
  };
}

/**
 * Raw kafkajs: the events encoded up front, sent `window` per send, one send after another, as a
 * careful producer would; with Junction's CloudEvents headers, or with none (`headers` false).
 */
async function rawRun(options: ProduceBenchOptions, kafka: Kafka, target: RunTopic, work: Workload, headers = true): Promise<RunResult> {
  const name = headers ? 'raw kafkajs' : 'raw kafkajs, no headers';
  const messages: Message[] = Array.from({ length: options.events }, (_, i) => {
    const prepared = prepareEvent(target.catalog, '/junction/bench', { type: TYPE, data: work.data(work.keyOf(i)) });
    return { key: prepared.key, value: frame(target.schemaId, prepared.body), ...(headers ? { headers: prepared.headers } : {}) };
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Warm: connection open, metadata known, code compiled by the JIT.
    for (let at = 0; at < Math.min(messages.length, WARM_UP); at += options.window) {
      await producer.send({ topic: target.topic, acks: -1, messages: messages.slice(at, Math.min(at + options.window, WARM_UP)) });
    }
    const latencies: number[] = [];
    let requests = 0;
    const started = performance.now();
    const timer = setInterval(() => options.onProgress?.(name, latencies.length, options.events), 1000);
    try {
      for (let at = 0; at < messages.length; at += options.window) {
        const chunk = messages.slice(at, at + options.window);
        const sent = performance.now();
        await producer.send({ topic: target.topic, acks: -1, messages: chunk });
        requests += 1;
        const took = performance.now() - sent;
        for (let i = 0; i < chunk.length; i += 1) latencies.push(took);
      }
    } finally {
      clearInterval(timer);
    }
    return result(name, latencies, started, work.eventBytes, requests);
  } finally {
    await producer.disconnect();
  }
}

/** Junction: one `publish` per event, `window` outstanding, validated and enveloped as any service would. */
export async function junctionRun(
  options: ProduceBenchOptions,
  kafka: Kafka,
  codec: AvroCodec,
  target: RunTopic,
  work: Workload,
): Promise<RunResult> {
  const publisher = createPublisher({ service: 'bench', kafka, registry: codec, catalog: target.catalog });
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.events, WARM_UP) }, (_, i) => publisher.publish(TYPE, work.data(work.keyOf(i)))),
    );
    const requestsBefore = publisher.stats.requests;
    const latencies: number[] = [];
    const started = performance.now();
    await pooled(
      options.events,
      options.window,
      async (i) => {
        const sent = performance.now();
        await publisher.publish(TYPE, work.data(work.keyOf(i)));
        latencies.push(performance.now() - sent);
      },
      (done) => options.onProgress?.('junction', done, options.events),
    );
    return result('junction', latencies, started, work.eventBytes, publisher.stats.requests - requestsBefore);
  } finally {
    await publisher.close();
  }
}

/** The median of `values`. */
export const median = (values: number[]): number =>
  percentile(
    values.toSorted((a, b) => a - b),
    0.5,
  );

/**
 * Sends the same keyed Avro events through raw kafkajs and through Junction's publisher, both
 * with an idempotent producer and acks=all, each run on a fresh topic of its own, in the same
 * process. Runs alternate (raw first in odd rounds, Junction first in even ones) so that neither
 * always gets the warmer machine; the ratio is of the median throughputs.
 */
export async function runProduceBench(options: ProduceBenchOptions): Promise<ProduceBenchResult> {
  const kafka = new Kafka({ clientId: 'junction-bench', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const codec = createAvroCodec({ registryUrl: options.registryUrl });
  const work = workload(options);
  const runs = { raw: [] as RunResult[], bare: [] as RunResult[], junction: [] as RunResult[] };
  const names = { raw: 'raw kafkajs', bare: 'raw kafkajs, no headers', junction: 'junction' };
  await admin.connect();
  try {
    for (let round = 0; round < options.rounds; round += 1) {
      // Each round starts with the next one, so that none always gets the warmer machine.
      const kinds = (['raw', 'bare', 'junction'] as const).map((_, i, all) => all[(i + round) % all.length] as keyof typeof runs);
      for (const which of kinds) {
        options.onProgress?.(`round ${round + 1} of ${options.rounds}: ${names[which]}`, 0, options.events);
        const target = await runTopic(options, admin, codec);
        try {
          if (which === 'junction') runs.junction.push(await junctionRun(options, kafka, codec, target, work));
          else runs[which].push(await rawRun(options, kafka, target, work, which === 'raw'));
        } finally {
          await target.drop();
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
  const junction = median(runs.junction.map((r) => r.eventsPerSecond));
  const result: ProduceBenchResult = {
    eventBytes: work.eventBytes,
    ...runs,
    ratio: junction / median(runs.raw.map((r) => r.eventsPerSecond)),
    bareRatio: junction / median(runs.bare.map((r) => r.eventsPerSecond)),
  };
  options.onProgress?.(
    `Kafka's ProducerPerformance: ${options.events} records of ${work.eventBytes} B after as many not counted`,
    0,
    options.events,
  );
  try {
    const java = await producerPerformance(
      options.brokers,
      { records: options.events, recordSize: work.eventBytes, partitions: options.partitions },
      (message) => options.onProgress?.(message, 0, options.events),
    );
    return { ...result, java, javaRatio: junction / java.recordsPerSecond };
  } catch (error) {
    return { ...result, javaError: (error as Error).message };
  }
}
