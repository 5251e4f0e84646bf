import { JunctionError } from '@junction/observability';
import { type Admin, Partitioners, type PartitionMetadata } from 'kafkajs';
import { kafkaError } from '../kafka/errors.ts';

interface TopicPartitions {
  partitions: PartitionMetadata[];
  expires: number;
}

/** How long a topic's partition count is trusted; new partitions are rare and move keys anyway. */
const METADATA_TTL_MS = 5 * 60_000;

/**
 * Chooses each record's partition the way Kafka's Java client does (murmur2 of the key, via
 * kafkajs's default partitioner), so the publisher knows where every event goes before sending:
 * that is what lets it report each event's offset from the produce response.
 */
export class PartitionChooser {
  readonly #admin: Admin;
  readonly #partitioner = Partitioners.DefaultPartitioner();
  readonly #known = new Map<string, TopicPartitions>();
  readonly #loading = new Map<string, Promise<TopicPartitions>>();
  /** The Kafka user, named when access is denied. */
  readonly #user: string | undefined;

  constructor(admin: Admin, user?: string) {
    this.#admin = admin;
    this.#user = user;
  }

  /** The partition of `key` on `topic` when the topic's metadata is known and fresh; undefined otherwise. */
  partitionNow(topic: string, key: string): number | undefined {
    const entry = this.#known.get(topic);
    if (!entry || entry.expires <= Date.now()) return undefined;
    return this.#partitioner({ topic, partitionMetadata: entry.partitions, message: { key, value: null } });
  }

  /** The partition of `key` on `topic`; `topic.unknown` when the topic does not exist. */
  async partition(topic: string, key: string): Promise<number> {
    const now = this.partitionNow(topic, key);
    if (now !== undefined) return now;
    const entry = await (this.#loading.get(topic) ?? this.#refresh(topic));
    return this.#partitioner({ topic, partitionMetadata: entry.partitions, message: { key, value: null } });
  }

  /** Forgets what is known of `topic`, after a send failed for a reason that may be stale metadata. */
  forget(topic: string): void {
    this.#known.delete(topic);
  }

  #refresh(topic: string): Promise<TopicPartitions> {
    const loading = this.#admin.fetchTopicMetadata({ topics: [topic] }).then(
      ({ topics }) => {
        const partitions = [...(topics[0]?.partitions ?? [])].sort((a, b) => a.partitionId - b.partitionId);
        if (!partitions.length) throw new JunctionError('topic.unknown', `topic ${topic} has no partitions`, { context: { topic } });
        return { partitions, expires: Date.now() + METADATA_TTL_MS };
      },
      (error: unknown) => {
        throw kafkaError(error, `cannot read the partitions of ${topic}`, { topic, user: this.#user });
      },
    );
    this.#loading.set(topic, loading);
    loading
      .then(
        (entry) => this.#known.set(topic, entry),
        () => {},
      )
      .finally(() => this.#loading.delete(topic));
    return loading;
  }
}
