import { randomBytes } from 'node:crypto';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, TopicContract } from './catalog.ts';
import { ensureTopics } from './topics.ts';

// Against the real broker: topics created from the catalog, a second run idempotent, drift reported.

const suffix = randomBytes(4).toString('hex');
const topic = (name: string, extra: Partial<TopicContract> = {}): TopicContract => ({
  name: `${name}-${suffix}`,
  description: 'test',
  owner: 'test',
  partitions: 2,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
  compatibility: 'FULL_TRANSITIVE',
  keyField: 'id',
  events: [],
  subscribers: [],
  ...extra,
});

describe('ensureTopics', () => {
  const { brokers } = stackFromEnv();
  const admin = new Kafka({ clientId: 'topics-test', brokers, logLevel: logLevel.NOTHING }).admin();
  const catalog: Catalog = {
    topics: [topic('topics.orders'), topic('topics.ledger', { partitions: 1, retentionMs: -1, cleanupPolicy: 'compact,delete' })],
    events: [],
  };
  const names = catalog.topics.map((t) => t.name);

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({ topics: names }).catch(() => {});
    await admin.disconnect();
  });

  it('creates missing topics with the partitions and configs of the catalog', async () => {
    expect(await ensureTopics(admin, catalog, { timeoutMs: 30_000 })).toEqual({ created: names, unchanged: [], drift: [] });
    const metadata = await admin.fetchTopicMetadata({ topics: names });
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
      [
        [names[0], 2],
        [names[1], 1],
      ].sort(),
    );
    const configs = await admin.describeConfigs({
      resources: names.map((name) => ({ type: 2, name, configNames: ['retention.ms', 'cleanup.policy'] })),
      includeSynonyms: false,
    });
    const values = Object.fromEntries(
      configs.resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))]),
    );
    expect(values[names[0] ?? '']).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'delete' });
    expect(values[names[1] ?? '']).toEqual({ 'retention.ms': '-1', 'cleanup.policy': 'compact,delete' });
  });

  it('is idempotent: a second run creates nothing and finds no drift', async () => {
    expect(await ensureTopics(admin, catalog)).toEqual({ created: [], unchanged: names, drift: [] });
  });

  it('reports drift and leaves the existing topic as it is', async () => {
    const changed: Catalog = {
      ...catalog,
      topics: catalog.topics.map((t, i) => (i === 0 ? { ...t, partitions: 4, retentionMs: 7_200_000, cleanupPolicy: 'compact' } : t)),
    };
    const result = await ensureTopics(admin, changed);
    expect(result.created).toEqual([]);
    expect(result.drift).toEqual([
      { topic: names[0], setting: 'partitions', file: '4', cluster: '2' },
      { topic: names[0], setting: 'retention.ms', file: '7200000', cluster: '3600000' },
      { topic: names[0], setting: 'cleanup.policy', file: 'compact', cluster: 'delete' },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [names[0] ?? ''] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });
});
