import { randomUUID } from 'node:crypto';
import type { KafkaPort } from '@junction/events';
import type { Admin } from 'kafkajs';
import { type DlqRecord, toDlqRecord } from './record.ts';

/** What to read of a topic. */
export interface ScanOptions {
  topic: string;
  /** Only this partition. */
  partition?: number;
  /** Start each partition here (never below its first offset). Default: its first offset. */
  offset?: bigint;
  /** Stop once this many records were counted (see `visit`). Default: no limit. */
  limit?: number;
  /** Stop reading after this long, in ms. */
  timeoutMs: number;
}

/** How a scan ended. */
export interface ScanResult {
  /** Records read. */
  scanned: number;
  /** Records in the range read, by offsets, when the scan started (what a full read would see). */
  available: number;
  /** `end`: everything up to where the topic ended when the scan started; `limit`; or `timeout`. */
  stopped: 'end' | 'limit' | 'timeout';
}

/** Where one partition is read: `[next, end)`. */
export interface Range {
  next: bigint;
  end: bigint;
}

/** Per partition, the offsets to read: from `offset` (or the start) to the end the topic has now. */
export function plan(
  offsets: Array<{ partition: number; low: string; high: string }>,
  options: Pick<ScanOptions, 'partition' | 'offset'>,
): Map<number, Range> {
  const ranges = new Map<number, Range>();
  for (const { partition, low, high } of offsets) {
    if (options.partition !== undefined && partition !== options.partition) continue;
    const start = BigInt(low) > (options.offset ?? 0n) ? BigInt(low) : (options.offset ?? 0n);
    if (start < BigInt(high)) ranges.set(partition, { next: start, end: BigInt(high) });
  }
  return ranges;
}

/**
 * Reads a topic from the offsets of {@link plan} up to where it ended when the scan started, or
 * until `limit` or the deadline. `visit` sees each record and returns true when it counts
 * toward `limit` (a filter returns false for records it skips).
 *
 * The consumer joins a fresh group of its own and commits nothing, so it moves no one's offsets;
 * the empty group is deleted afterwards.
 */
export async function scanTopic(
  kafka: KafkaPort,
  admin: Admin,
  options: ScanOptions,
  visit: (record: DlqRecord) => boolean,
): Promise<ScanResult> {
  const offsets = await admin.fetchTopicOffsets(options.topic);
  const ranges = plan(offsets, options);
  const available = Number([...ranges.values()].reduce((sum, r) => sum + (r.end - r.next), 0n));
  if (!ranges.size) return { scanned: 0, available, stopped: 'end' };

  const groupId = `junction-cli-dlq-${randomUUID()}`;
  // A broker that just started answers "coordinator loading" for a few seconds: be patient with that.
  const consumer = kafka.consumer({ groupId, maxWaitMs: 250, retry: { retries: 8, initialMs: 300, maxMs: 3000 } });
  let scanned = 0;
  let counted = 0;
  let stop!: (how: ScanResult['stopped']) => void;
  let fail!: (error: unknown) => void;
  let stopped: ScanResult['stopped'] | undefined;
  const ended = new Promise<ScanResult['stopped']>((resolve, reject) => {
    stop = (how) => {
      stopped ??= how;
      resolve(stopped);
    };
    fail = reject;
  });
  // Awaited below; a crash before then must not surface as an unhandled rejection meanwhile.
  ended.catch(() => {});
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  // kafkajs restarts a consumer that crashed on a retriable error (a coordinator still loading on
  // a broker that just started, say), and the join handler below seeks again: only a crash it
  // will not restart from ends the scan; the scan's own deadline bounds the rest.
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) fail(event.payload.error);
  });
  // Positions are set on every join, not once after run(): kafkajs has a consumer group to seek
  // in only from its join on, and a consumer that restarts after a crash under load joins again,
  // with a new group object that knows nothing of an earlier seek. Each join seeks to where the
  // scan has got to.
  const idle = offsets.map((o) => o.partition).filter((p) => !ranges.has(p));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (idle.length) consumer.pause([{ topic: options.topic, partitions: idle }]);
    for (const [partition, range] of ranges) consumer.seek({ topic: options.topic, partition, offset: range.next.toString() });
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range || stopped) return;
        for (const message of batch.messages) {
          if (stopped) return;
          const offset = BigInt(message.offset);
          if (offset >= range.end) break;
          // A fetch that started before the seek took effect can deliver records below the start, or twice.
          if (offset < range.next) continue;
          range.next = offset + 1n;
          scanned += 1;
          if (visit(toDlqRecord(options.topic, batch.partition, message))) counted += 1;
          if (options.limit !== undefined && counted >= options.limit) return stop('limit');
        }
        // lastOffset() covers control records and compacted gaps, which never arrive as messages.
        if (BigInt(batch.lastOffset()) >= range.end - 1n) {
          ranges.delete(batch.partition);
          if (!ranges.size) stop('end');
        }
      },
    });
    const how = await ended;
    return { scanned, available, stopped: how };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
