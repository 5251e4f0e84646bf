import type { Logger } from '@junction/observability';
import { PartitionOffsets } from './offsets.ts';

/** One offset to commit: the next record to read of a partition. */
export interface CommitOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The offsets of the partitions this member reads, and their commits. Each partition's tracker
 * knows which records were taken and which finished; a commit writes, per partition, the offset
 * below which every record finished, and only where that moved since the last commit. A failed
 * commit (a rebalance under way) is logged and tried again next time: the next owner of a
 * partition starts from its last commit, and handlers are idempotent.
 */
export class Commits {
  readonly #commitOffsets: (offsets: CommitOffset[]) => Promise<void>;
  readonly #logger: Logger | undefined;
  readonly #trackers = new Map<string, PartitionOffsets>();

  constructor(commitOffsets: (offsets: CommitOffset[]) => Promise<void>, logger?: Logger) {
    this.#commitOffsets = commitOffsets;
    this.#logger = logger;
  }

  /** Partitions tracked since the last rebalance. */
  get size(): number {
    return this.#trackers.size;
  }

  /** The partition's tracker, made on first use. */
  tracker(topic: string, partition: number): PartitionOffsets {
    const key = `${topic}\0${partition}`;
    let tracker = this.#trackers.get(key);
    if (!tracker) {
      tracker = new PartitionOffsets();
      this.#trackers.set(key, tracker);
    }
    return tracker;
  }

  /** The partition's tracker, if it has one. */
  get(topic: string, partition: number): PartitionOffsets | undefined {
    return this.#trackers.get(`${topic}\0${partition}`);
  }

  /** Commits every partition whose commit point moved; resolves (never rejects) once Kafka answered. */
  async commit(): Promise<void> {
    const due: Array<CommitOffset & { tracker: PartitionOffsets; point: number }> = [];
    for (const [key, tracker] of this.#trackers) {
      const point = tracker.commitPoint();
      if (point === undefined) continue;
      const split = key.indexOf('\0');
      due.push({ topic: key.slice(0, split), partition: Number(key.slice(split + 1)), offset: String(point), tracker, point });
    }
    if (!due.length) return;
    try {
      await this.#commitOffsets(due.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      for (const { tracker, point } of due) tracker.committed(point);
    } catch (error) {
      this.#logger?.warn('offset commit failed; will try again', { error: String(error) });
    }
  }

  /** Forgets every partition (a rebalance): what was not committed is read again by its next owner. */
  clear(): void {
    this.#trackers.clear();
  }
}
