import { createTopicsReady } from '@junction/events';
import { kafkaTools } from '@junction/stack';
import { cliKafka } from '../kafka.ts';

/** Kafka's own one-hop latency (produce with acks=all, then consume, one message at a time), from its EndToEndLatency tool. */
export interface KafkaHop {
  p50Ms: number;
  p99Ms: number;
  /** Absent when the tool printed no 99.9th percentile. */
  p999Ms?: number;
  messages: number;
}

/**
 * Parses EndToEndLatency's closing line: `Percentiles: 50th = 2, 99th = 5, 99.9th = 11`. The tool
 * truncates each latency to whole milliseconds, so its "2" means 2 to 3 ms.
 */
export function parseEndToEndLatency(output: string): { p50Ms: number; p99Ms: number; p999Ms?: number } | undefined {
  const match = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+)(?:, 99\.9th = ([\d.]+))?/.exec(output);
  if (!match) return undefined;
  return { p50Ms: Number(match[1]), p99Ms: Number(match[2]), ...(match[3] === undefined ? {} : { p999Ms: Number(match[3]) }) };
}

/** Runs Kafka's EndToEndLatency (acks=all, 1 KiB) against `brokers` on a topic of its own, bounded in time. */
export async function kafkaHop(brokers: string[], messages: number, progress: (m: string) => void): Promise<KafkaHop> {
  const topic = `junction-bench-e2e-${process.pid}-${Date.now()}`;
  const admin = cliKafka(brokers).admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const output = await runTool('EndToEndLatency', [brokers.join(','), topic, String(messages), 'all', '1024'], 120_000, progress);
    const parsed = parseEndToEndLatency(output);
    if (!parsed) throw new Error(`EndToEndLatency printed no percentiles: ${output.trim().split('\n').slice(-3).join(' ')}`);
    return { ...parsed, messages };
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** Runs one of Kafka's Java tools (kafka-tools jar, fetched with the stack), failing with the end of its output. */
async function runTool(className: string, args: string[], timeoutMs: number, progress: (m: string) => void): Promise<string> {
  const tools = await kafkaTools({ onProgress: progress });
  const result = await tools.run(`org.apache.kafka.tools.${className}`, args, timeoutMs);
  const output = `${result.stdout}${result.stderr}`;
  if (result.code !== 0) {
    const why = result.timedOut ? `ran past ${timeoutMs / 1000} s` : `exited with ${result.code}`;
    throw new Error(`${className} ${why}: ${output.trim().split('\n').slice(-3).join(' ')}`);
  }
  return output;
}

/** What Kafka's ProducerPerformance measured: its steady state when it had a warm-up. */
export interface JavaProduce {
  records: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Parses ProducerPerformance's summary: the `steady state` line when it warmed up first, else the
 * last line with percentiles (`50000 records sent, 93457.9 records/sec (91.27 MB/sec), … 180 ms
 * 50th, 350 ms 95th, 390 ms 99th, …`).
 */
export function parseProducerPerformance(output: string): JavaProduce | undefined {
  const summary =
    /(\d+) (?:steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/g;
  const lines = [...output.matchAll(summary)];
  const steady = lines.filter((m) => m[0].includes('steady state')).at(-1) ?? lines.at(-1);
  if (!steady) return undefined;
  return {
    records: Number(steady[1]),
    recordsPerSecond: Number(steady[2]),
    megabytesPerSecond: Number(steady[3]),
    p50Ms: Number(steady[4]),
    p99Ms: Number(steady[5]),
  };
}

/** ProducerPerformance's records not counted, at least: its JVM compiles while it sends them. */
const PRODUCER_WARM_UP = 100_000;
/** ProducerPerformance's records counted, at least: shorter runs read low (50,000 at 29,000/s where 200,000 reach twice that). */
const PRODUCER_RECORDS = 200_000;

/**
 * Kafka's ProducerPerformance on a topic of its own with `partitions`: at least `records` of
 * `recordSize` bytes with acks=all, as fast as it can, after a warm-up not counted. Its records
 * have no key and no headers.
 */
export async function producerPerformance(
  brokers: string[],
  options: { records: number; recordSize: number; partitions: number },
  progress: (m: string) => void,
): Promise<JavaProduce> {
  const topic = `junction-bench-pp-${process.pid}-${Date.now()}`;
  const admin = cliKafka(brokers).admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: options.partitions, replicationFactor: 1 }]);
    const output = await runTool(
      'ProducerPerformance',
      [
        ...['--topic', topic, '--num-records', String(Math.max(options.records, PRODUCER_RECORDS) + PRODUCER_WARM_UP)],
        ...['--warmup-records', String(PRODUCER_WARM_UP)],
        ...['--record-size', String(options.recordSize), '--throughput', '-1'],
        ...['--producer-props', `bootstrap.servers=${brokers.join(',')}`, 'acks=all'],
      ],
      300_000,
      progress,
    );
    const parsed = parseProducerPerformance(output);
    if (!parsed) throw new Error(`ProducerPerformance printed no summary: ${output.trim().split('\n').slice(-3).join(' ')}`);
    return parsed;
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** What Kafka's ConsumerPerformance measured. */
export interface JavaConsume {
  records: number;
  /** Over its whole run, joining the group included. */
  recordsPerSecond: number;
  /** Over its fetching only, the group's join left out. */
  fetchRecordsPerSecond: number;
}

/** Parses ConsumerPerformance's CSV: a header line (`start.time, end.time, …, nMsg.sec, …, fetch.nMsg.sec`) and a line of values. */
export function parseConsumerPerformance(output: string): JavaConsume | undefined {
  const lines = output.split('\n').map((line) => line.trim());
  const at = lines.findIndex((line) => line.startsWith('start.time,'));
  if (at < 0 || !lines[at + 1]) return undefined;
  const names = (lines[at] as string).split(',').map((s) => s.trim());
  const values = (lines[at + 1] as string).split(',').map((s) => s.trim());
  const value = (name: string) => Number(values[names.indexOf(name)]);
  const parsed = {
    records: value('data.consumed.in.nMsg'),
    recordsPerSecond: value('nMsg.sec'),
    fetchRecordsPerSecond: value('fetch.nMsg.sec'),
  };
  return Object.values(parsed).every(Number.isFinite) ? parsed : undefined;
}

/** Kafka's ConsumerPerformance: `records` of `topic` from its beginning, in a group of its own. */
export async function consumerPerformance(
  brokers: string[],
  topic: string,
  records: number,
  progress: (m: string) => void,
): Promise<JavaConsume> {
  const group = `junction-bench-cp-${process.pid}-${Date.now()}`;
  const output = await runTool(
    'ConsumerPerformance',
    ['--bootstrap-server', brokers.join(','), '--topic', topic, '--num-records', String(records), '--group', group],
    300_000,
    progress,
  );
  const parsed = parseConsumerPerformance(output);
  if (!parsed) throw new Error(`ConsumerPerformance printed no results: ${output.trim().split('\n').slice(-3).join(' ')}`);
  return parsed;
}
