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
  const tools = await kafkaTools({ onProgress: progress });
  const topic = `junction-bench-e2e-${process.pid}-${Date.now()}`;
  const admin = cliKafka(brokers).admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const result = await tools.run(
      'org.apache.kafka.tools.EndToEndLatency',
      [brokers.join(','), topic, String(messages), 'all', '1024'],
      120_000,
    );
    const output = `${result.stdout}${result.stderr}`;
    if (result.code !== 0) {
      const why = result.timedOut ? 'ran past 120 s' : `exited with ${result.code}`;
      throw new Error(`EndToEndLatency ${why}: ${output.trim().split('\n').slice(-3).join(' ')}`);
    }
    const parsed = parseEndToEndLatency(output);
    if (!parsed) throw new Error(`EndToEndLatency printed no percentiles: ${output.trim().split('\n').slice(-3).join(' ')}`);
    return { ...parsed, messages };
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
