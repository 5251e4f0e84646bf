import { JunctionError } from '@junction/observability';
import type { Admin, ConfigResourceTypes, ITopicConfig } from 'kafkajs';
import type { Catalog, TopicContract } from './catalog.ts';

/** Options of {@link ensureTopics}. */
export interface EnsureTopicsOptions {
  /** Bound of each admin call; default 30 s. */
  timeoutMs?: number;
  /** Replicas of a new topic; default the cluster's `default.replication.factor`, else min(3, brokers). */
  replicationFactor?: number;
}

/** A setting of an existing topic that differs from `topics.yaml`. */
export interface TopicDrift {
  topic: string;
  setting: 'partitions' | 'retention.ms' | 'cleanup.policy';
  /** What `topics.yaml` says. */
  file: string;
  /** What the cluster has. */
  cluster: string;
}

/** What {@link ensureTopics} did. */
export interface EnsureTopicsResult {
  created: string[];
  /** Topics that existed already (never changed; any difference is in `drift`). */
  unchanged: string[];
  drift: TopicDrift[];
}

// kafkajs declares these as a const enum in its types; the values are the protocol's.
const TOPIC = 2 as ConfigResourceTypes;
const BROKER = 4 as ConfigResourceTypes;
const TOPIC_CONFIGS = ['retention.ms', 'cleanup.policy'] as const;

/** Runs one admin call, failing with `timeout` (retriable) when the cluster does not finish it in time. */
async function bounded<T>(what: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new JunctionError('timeout', `Kafka did not finish ${what} within ${timeoutMs} ms`, { context: { what, timeoutMs } })),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([call(), expired]);
  } catch (error) {
    throw JunctionError.from(error, 'broker.unavailable', { what });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates topics and returns once every partition of each has a leader. kafkajs's own
 * `waitForLeaders` gives up when a fresh topic is not yet in the metadata (UNKNOWN_TOPIC_OR_PARTITION,
 * a moment's lag under KRaft), so this asks again, briefly, until the deadline.
 */
export async function createTopicsReady(admin: Admin, topics: ITopicConfig[], options: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  await bounded('createTopics', timeoutMs, () => admin.createTopics({ waitForLeaders: false, timeout: timeoutMs, topics }));
  const names = topics.map((topic) => topic.topic);
  for (;;) {
    try {
      const { topics: found } = await bounded('fetchTopicMetadata', Math.max(1, deadline - Date.now()), () =>
        admin.fetchTopicMetadata({ topics: names }),
      );
      const ready =
        found.length === names.length && found.every((topic) => topic.partitions.length && topic.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline) {
      throw new JunctionError('timeout', `topics ${names.join(', ')} have no leaders ${timeoutMs} ms after their creation`, {
        context: { topics: names },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `compact,delete` and `delete,compact` are the same policy. */
const normalisePolicy = (policy: string): string =>
  policy
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .sort()
    .join(',');

/** The configs a topic is created with, from its contract. */
function configEntries(topic: TopicContract): Array<{ name: string; value: string }> {
  return [
    { name: 'retention.ms', value: String(topic.retentionMs) },
    { name: 'cleanup.policy', value: topic.cleanupPolicy },
  ];
}

async function defaultReplicationFactor(admin: Admin, timeoutMs: number): Promise<number> {
  const cluster = await bounded('describeCluster', timeoutMs, () => admin.describeCluster());
  const brokers = cluster.brokers.length;
  const first = cluster.brokers[0];
  if (first) {
    try {
      const described = await bounded('describeConfigs (broker)', timeoutMs, () =>
        admin.describeConfigs({
          resources: [{ type: BROKER, name: String(first.nodeId), configNames: ['default.replication.factor'] }],
          includeSynonyms: false,
        }),
      );
      const value = Number(described.resources[0]?.configEntries[0]?.configValue);
      if (Number.isInteger(value) && value >= 1) return Math.min(value, brokers);
    } catch {
      // A cluster that does not let us read broker configs still gets a sensible default below.
    }
  }
  return Math.max(1, Math.min(3, brokers));
}

/**
 * Creates the catalog's missing topics (partitions, `retention.ms`, `cleanup.policy`) and
 * compares the existing ones with the catalog. It never changes an existing topic: more
 * partitions move keys to other partitions and break per-key order, so a difference is reported
 * as drift for a person to decide. Idempotent: a second run creates nothing.
 */
export async function ensureTopics(admin: Admin, catalog: Catalog, options: EnsureTopicsOptions = {}): Promise<EnsureTopicsResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const existing = new Set(await bounded('listTopics', timeoutMs, () => admin.listTopics()));
  const missing = catalog.topics.filter((topic) => !existing.has(topic.name));
  const present = catalog.topics.filter((topic) => existing.has(topic.name));
  const created: string[] = [];
  const unchanged: string[] = [];

  if (missing.length) {
    const replicationFactor = options.replicationFactor ?? (await defaultReplicationFactor(admin, timeoutMs));
    await createTopicsReady(
      admin,
      missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor,
        configEntries: configEntries(topic),
      })),
      { timeoutMs },
    );
    created.push(...missing.map((topic) => topic.name));
  }

  const drift: TopicDrift[] = [];
  if (present.length) {
    const names = present.map((topic) => topic.name);
    const metadata = await bounded('fetchTopicMetadata', timeoutMs, () => admin.fetchTopicMetadata({ topics: names }));
    const configs = await bounded('describeConfigs', timeoutMs, () =>
      admin.describeConfigs({
        resources: names.map((name) => ({ type: TOPIC, name, configNames: [...TOPIC_CONFIGS] })),
        includeSynonyms: false,
      }),
    );
    for (const topic of present) {
      const partitions = metadata.topics.find((t) => t.name === topic.name)?.partitions.length;
      const entries = configs.resources.find((r) => r.resourceName === topic.name)?.configEntries ?? [];
      const value = (name: string) => entries.find((entry) => entry.configName === name)?.configValue;
      if (partitions !== topic.partitions) {
        drift.push({ topic: topic.name, setting: 'partitions', file: String(topic.partitions), cluster: String(partitions ?? '?') });
      }
      const retention = value('retention.ms');
      if (retention !== String(topic.retentionMs)) {
        drift.push({ topic: topic.name, setting: 'retention.ms', file: String(topic.retentionMs), cluster: retention ?? '?' });
      }
      const policy = value('cleanup.policy');
      if (policy === undefined || normalisePolicy(policy) !== normalisePolicy(topic.cleanupPolicy)) {
        drift.push({ topic: topic.name, setting: 'cleanup.policy', file: topic.cleanupPolicy, cluster: policy ?? '?' });
      }
      unchanged.push(topic.name);
    }
  }
  return { created, unchanged, drift };
}
