import { JunctionError } from '@junction/observability';
import { type Admin, Partitioners, type PartitionMetadata } from 'kafkajs';
import { brokerDenied } from '../kafka-connection.ts';

/** kafkajs error fields that decisions branch on. */
interface KafkaJsError {
  name?: string;
  cause?: unknown;
  type?: string;
  message?: string;
  originalError?: unknown;
}

const TIMEOUTS = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout']);
/** Broker answers that blame the records themselves: sending them again cannot help. */
const RECORD_ERRORS = new Set(['INVALID_TIMESTAMP', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

/** The innermost cause kafkajs wraps in its retry errors. */
function rootCause(error: unknown): KafkaJsError {
  let current = (error ?? {}) as KafkaJsError;
  // kafkajs keeps the last failure in `cause` (older wrappers in `originalError`).
  while (current.name === 'KafkaJSNumberOfRetriesExceeded' && (current.originalError ?? current.cause))
    current = (current.originalError ?? current.cause) as KafkaJsError;
  return current;
}

/** The innermost failure kafkajs reports, as `<protocol error or name>: <message>`, for messages. */
export function kafkaFailureReason(error: unknown): string {
  const cause = rootCause(error);
  return `${cause.type ?? cause.name ?? 'Error'}: ${cause.message ?? String(error)}`;
}

/** Turns a kafkajs failure into a JunctionError; decisions branch on its name and protocol type, not on text. */
export function kafkaError(error: unknown, what: string, context: Record<string, unknown>): JunctionError {
  if (error instanceof JunctionError) return error;
  const denied = brokerDenied(error, what, context);
  if (denied) return denied;
  const cause = rootCause(error);
  const message = cause.message ?? String(error);
  if (cause.type === 'UNKNOWN_TOPIC_OR_PARTITION' || cause.name === 'KafkaJSTopicMetadataNotLoaded') {
    const topic = context.topic ?? context.topics;
    return new JunctionError('topic.unknown', `${what}: topic ${topic} does not exist; create it with \`./junction schemas register\``, {
      cause: error,
      context,
    });
  }
  if (RECORD_ERRORS.has(cause.type ?? '')) {
    return new JunctionError('event.invalid', `${what}: Kafka refused the records (${cause.type}: ${message})`, { cause: error, context });
  }
  if (TIMEOUTS.has(cause.name ?? ''))
    return new JunctionError('timeout', `${what}: Kafka did not answer in time (${message})`, { cause: error, context });
  return new JunctionError('broker.unavailable', `${what}: ${message}`, { cause: error, context });
}

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
