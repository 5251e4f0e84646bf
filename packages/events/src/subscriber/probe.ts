import type { PartitionLag, SubscriberProbe } from '@junction/observability';
import type { Admin } from 'kafkajs';
import type { KafkaPort } from '../kafka/port.ts';
import type { PartitionOffsets } from './offsets.ts';

/** What the probe reads of a running subscriber. */
export interface ProbeSource {
  group: string;
  kafka: KafkaPort;
  topics: readonly string[];
  sourceTopics: readonly string[];
  deadLetterTopics: readonly string[];
  /** The partitions this member owns, by topic (from its last group join). */
  assignment(): ReadonlyMap<string, readonly number[]>;
  /** The offsets tracker of a partition, once a record of it was taken on. */
  tracker(topic: string, partition: number): PartitionOffsets | undefined;
  inFlight: SubscriberProbe['inFlight'];
  circuit: SubscriberProbe['circuit'];
}

/**
 * Like `Promise.all`, but settles only once every request has: a question must not be over while
 * one of its requests is still retrying, or `close` would disconnect under it and kafkajs would
 * connect again, leaving a socket that keeps the process alive.
 */
async function settledAll<T>(requests: Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(requests);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** How long `close` waits for questions under way before it disconnects anyway. */
const CLOSE_WAIT_MS = 5000;

/** A subscriber's probe, with `close` to disconnect the admin client it uses for watermarks. */
export interface ClosableProbe extends SubscriberProbe {
  close(): Promise<void>;
}

/**
 * The subscriber's face to metrics. Lag asks Kafka for the high watermarks of the partitions this
 * member owns and the group's committed offsets, and measures from the subscriber's own position
 * (the lowest unfinished record), which is ahead of the last commit. In seconds it is the age of
 * the oldest unfinished record taken on; when records wait that were not fetched yet (nothing of
 * the partition in flight), it is the time since the partition was last seen caught up — an upper
 * bound, exact again as soon as the records are fetched.
 */
export function subscriberProbe(source: ProbeSource): ClosableProbe {
  let admin: Promise<Admin> | undefined;
  let closed = false;
  /**
   * Questions under way. `close` waits for them before it disconnects: a question still running
   * would otherwise reconnect the admin client (kafkajs refreshes metadata on its own), and that
   * socket would keep the process alive after the subscriber stopped.
   */
  const asking = new Set<Promise<unknown>>();
  const question = <T>(work: (client: Admin) => Promise<T>, none: T): Promise<T> => {
    if (closed) return Promise.resolve(none);
    const asked = connected().then(work);
    asking.add(asked);
    void asked.finally(() => asking.delete(asked)).catch(() => {});
    return asked;
  };
  const connected = (): Promise<Admin> => {
    admin ??= (async () => {
      const client = source.kafka.admin();
      await client.connect();
      return client;
    })().catch((error: unknown) => {
      admin = undefined;
      throw error;
    });
    return admin;
  };
  const since = Date.now();
  const caughtUp = new Map<string, number>();

  return {
    group: source.group,
    topics: source.topics,
    sourceTopics: source.sourceTopics,
    inFlight: source.inFlight,
    circuit: source.circuit,
    lag() {
      const owned = [...source.assignment()].filter(([, partitions]) => partitions.length > 0);
      if (!owned.length) return Promise.resolve([]);
      return question((client) => lagOf(client, owned), []);
    },
    deadLetterDepth() {
      if (!source.deadLetterTopics.length) return Promise.resolve([]);
      return question(
        (client) =>
          settledAll(
            source.deadLetterTopics.map(async (topic) => {
              const marks = await client.fetchTopicOffsets(topic);
              return { topic, records: marks.reduce((sum, m) => sum + Math.max(0, Number(m.high) - Number(m.low)), 0) };
            }),
          ),
        [],
      );
    },
    async close() {
      closed = true;
      // At most a few seconds: a question Kafka never answers must not hold up the stop.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...asking]), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
      const open = admin;
      admin = undefined;
      if (open) await open.then((client) => client.disconnect()).catch(() => {});
    },
  };

  async function lagOf(client: Admin, owned: [string, readonly number[]][]): Promise<PartitionLag[]> {
    const topics = owned.map(([topic]) => topic);
    const fetching = client.fetchOffsets({ groupId: source.group, topics });
    const marking = topics.map((topic) => client.fetchTopicOffsets(topic));
    const [committed, ...watermarks] = (await settledAll<unknown>([fetching, ...marking])) as [
      Awaited<typeof fetching>,
      ...Awaited<(typeof marking)[number]>[],
    ];
    const now = Date.now();
    const lags: PartitionLag[] = [];
    owned.forEach(([topic, partitions], i) => {
      for (const partition of partitions) {
        const marks = watermarks[i]?.find((w) => w.partition === partition);
        if (!marks) continue;
        const commit = Number(committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
        const tracker = source.tracker(topic, partition);
        const position = tracker?.position ?? (commit >= 0 ? commit : Number(marks.low));
        const records = Math.max(0, Number(marks.high) - position);
        const key = `${topic}\0${partition}`;
        if (records === 0) caughtUp.set(key, now);
        const oldest = tracker?.oldestPendingTimestamp;
        const seconds = records === 0 ? 0 : (now - (oldest ?? caughtUp.get(key) ?? since)) / 1000;
        lags.push({ topic, partition, records, seconds: Math.max(0, seconds) });
      }
    });
    return lags;
  }
}
