import { randomBytes, randomUUID } from 'node:crypto';
import {
  avroType,
  type Catalog,
  createPublisher,
  createSubscriber,
  createTopicsReady,
  eventContract,
  eventVersion,
  memoryInbox,
  type Publisher,
  renameTopics,
  type Subscriber,
} from '@junction/events';
import { Kafka, logLevel } from 'kafkajs';
import { dropGroupTopics } from './consume.ts';
import { type KafkaHop, kafkaHop } from './kafka-java.ts';
import { eventOfSize, percentile } from './produce.ts';

/** Junction's publish→handler p99 may be at most this much over EndToEndLatency's p99 (whose values are whole milliseconds). */
export const TARGET_MARGIN_MS = 1;

const TYPE = 'com.junction.orders.OrderCancelled';
/** Messages sent first and not counted: connections, metadata, the JIT. */
const WARM_UP = 500;
/** One message that has not reached its handler by then fails the run. */
const MESSAGE_TIMEOUT_MS = 10_000;
/** The first waits for the group to be joined and the partition assigned. */
const FIRST_TIMEOUT_MS = 60_000;

/** Options of {@link runLatencyBench}. */
export interface LatencyBenchOptions {
  brokers: string[];
  registryUrl: string;
  catalog: Catalog;
  /** Messages measured, one at a time, by each side. */
  messages: number;
  /** Avro body size of each event, in bytes (EndToEndLatency's are 1,024). */
  size: number;
  /**
   * Messages EndToEndLatency sends. It has no warm-up of its own: its JVM compiles while it
   * measures, so it sends more, for its first slow ones to weigh on its p99 as little as
   * Junction's (not counted) warm-up does.
   */
  kafkaMessages: number;
  onProgress: (message: string) => void;
}

/** Percentiles of one side's latencies, in milliseconds. */
export interface LatencyStats {
  messages: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export interface LatencyBenchResult {
  junction: LatencyStats;
  eventBytes: number;
  kafka?: KafkaHop;
  kafkaError?: string;
}

/** The percentiles of `latencies` (milliseconds, any order). */
export function latencyStats(latencies: readonly number[]): LatencyStats {
  const sorted = latencies.toSorted((a, b) => a - b);
  return {
    messages: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
  };
}

/** Whether Junction's p99 is within {@link TARGET_MARGIN_MS} of Kafka's own. */
export function latencyMet(junction: LatencyStats, kafka: KafkaHop): boolean {
  return junction.p99Ms <= kafka.p99Ms + TARGET_MARGIN_MS;
}

/**
 * Publish→handler latency the way Kafka's EndToEndLatency measures produce→consume: one message
 * at a time on a one-partition topic of its own, acks=all, the next sent when the last arrived.
 * Junction's side is its publisher (validation, envelope, Avro with the registry) and a
 * subscriber with its full chain (decode, dedupe with an in-memory inbox, telemetry, commit);
 * the clock runs from the publish call to the handler's first line. Then EndToEndLatency on the
 * same broker. Every topic made is deleted, the subscriber's retry and dead-letter topics too.
 */
export async function runLatencyBench(options: LatencyBenchOptions): Promise<LatencyBenchResult> {
  const progress = options.onProgress;
  const suffix = randomBytes(4).toString('hex');
  const catalog = renameTopics(options.catalog, (name) => `bench.${name.replace(/\./g, '-')}-${suffix}`);
  const contract = eventContract(catalog, TYPE);
  const data = eventOfSize(catalog, options.size);
  const eventBytes = avroType(eventVersion(contract).schema).toBuffer(data(randomUUID())).length;
  const group = `bench-latency-${suffix}`;
  const admin = new Kafka({ clientId: 'junction-bench-latency', brokers: options.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const arrivals = new Map<string, () => void>();
  let publisher: Publisher | undefined;
  let subscriber: Subscriber | undefined;
  const latencies: number[] = [];
  try {
    await createTopicsReady(admin, [{ topic: contract.topic, numPartitions: 1 }]);
    publisher = createPublisher({
      service: 'bench',
      kafka: { brokers: options.brokers },
      registry: { url: options.registryUrl },
      catalog,
      autoRegister: true,
    });
    subscriber = createSubscriber({
      group,
      kafka: { brokers: options.brokers },
      registry: { url: options.registryUrl },
      catalog,
      idempotency: { store: memoryInbox({ maxEntries: 2 * (options.messages + WARM_UP) }), ttlMs: 3_600_000 },
      handlers: {
        [TYPE]: async (ctx) => {
          const key = ctx.record.key;
          if (key !== null && key !== undefined) arrivals.get(String(key))?.();
        },
      },
    });
    await subscriber.start();
    const one = async (timeoutMs = MESSAGE_TIMEOUT_MS): Promise<number> => {
      const key = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<void>((resolve, reject) => {
        arrivals.set(key, resolve);
        timer = setTimeout(() => reject(new Error(`an event did not reach its handler within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      const sent = performance.now();
      try {
        await (publisher as Publisher).publish(TYPE, data(key));
        await arrived;
        return performance.now() - sent;
      } finally {
        clearTimeout(timer);
        arrivals.delete(key);
      }
    };
    progress(`warming up: ${WARM_UP} events, one at a time`);
    for (let i = 0; i < WARM_UP; i += 1) await one(i === 0 ? FIRST_TIMEOUT_MS : MESSAGE_TIMEOUT_MS);
    let last = Date.now();
    for (let i = 0; i < options.messages; i += 1) {
      latencies.push(await one());
      if (Date.now() - last > 2000) {
        last = Date.now();
        progress(`junction: ${i + 1} of ${options.messages} events`);
      }
    }
  } finally {
    await subscriber?.stop({ deadlineMs: 5000 });
    await publisher?.close();
    await admin.deleteTopics({ topics: [contract.topic] }).catch(() => {});
    await dropGroupTopics(admin, group);
    await admin.disconnect();
  }
  progress(`Kafka's EndToEndLatency on the same broker (${options.kafkaMessages} messages, acks=all, 1 KiB)`);
  try {
    const kafka = await kafkaHop(options.brokers, options.kafkaMessages, progress);
    return { junction: latencyStats(latencies), eventBytes, kafka };
  } catch (error) {
    return { junction: latencyStats(latencies), eventBytes, kafkaError: (error as Error).message };
  }
}
