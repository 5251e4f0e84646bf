import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { type Stack, stackFromEnv, startStack, stopStack } from '@junction/stack';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRecords, type PrivateContracts, privateContracts, readRecords, until } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { createPublisher, type Publisher, type PublishResult } from './publisher.ts';

// Junction's publisher against a three-node cluster of its own (replication factor 3,
// min.insync.replicas 2), one node of which is killed with SIGKILL under load. The schemas are
// the shared test stack's registry's; the records are this cluster's.

const CANCELLED = 'com.junction.orders.OrderCancelled';
const KEYS = 24;
const PER_KEY_PER_ROUND = 10;
const ROUNDS_BEFORE_KILL = 10;
const ROUNDS_AFTER_KILL = 10;

let stack: Stack;
let contracts: PrivateContracts;
let publisher: Publisher;
let topic: string;

beforeAll(async () => {
  stack = await startStack({
    stateDir: await mkdtemp(join(tmpdir(), 'junction-failover-')),
    brokers: 3,
    ports: 'auto',
    registry: false,
    redis: false,
  });
  contracts = await privateContracts({ brokers: stack.brokers, registryUrl: stackFromEnv().schemaRegistryUrl });
  topic = contracts.catalog.events.find((event) => event.type === CANCELLED)?.topic as string;
  publisher = createPublisher({
    service: 'orders',
    kafka: { brokers: stack.brokers },
    registry: { url: stackFromEnv().schemaRegistryUrl },
    catalog: contracts.catalog,
  });
}, 180_000);

afterAll(async () => {
  await publisher?.close();
  await contracts?.cleanup();
  if (stack) await stopStack({ stateDir: stack.stateDir, purge: true, graceMs: 5000 });
});

/** The node leading the most partitions of `topic`, once every partition has a leader. */
async function busiestLeader(): Promise<{ name: string; pid: number }> {
  let leaders: number[] = [];
  await until(
    async () => {
      const [metadata] = (await contracts.admin.fetchTopicMetadata({ topics: [topic] }).catch(() => ({ topics: [] }))).topics;
      leaders = metadata?.partitions.map((p) => p.leader) ?? [];
      return leaders.length > 0 && leaders.every((leader) => leader >= 0);
    },
    30_000,
    `a leader for every partition of ${topic}`,
  );
  const counts = new Map<number, number>();
  for (const leader of leaders) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  const [nodeId] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] as [number, number];
  const node = stack.nodes.find((n) => n.nodeId === nodeId);
  if (!node?.pid) throw new Error(`no running node ${nodeId}`);
  return { name: node.name, pid: node.pid };
}

describe('a partition leader killed with SIGKILL under load', () => {
  it('refuses no publish: retries ride out the failover within the publish timeout; nothing lost, nothing twice, every key in order', {
    timeout: 180_000,
  }, async () => {
    const victim = await busiestLeader();
    const published = new Map<string, string[]>(); // key → ce_ids in publish order
    const keys = Array.from({ length: KEYS }, () => randomUUID());
    const refused: unknown[] = [];
    let acknowledged = 0;
    let killedAt = 0;
    let slowest = 0;
    for (let round = 0; round < ROUNDS_BEFORE_KILL + ROUNDS_AFTER_KILL; round += 1) {
      if (round === ROUNDS_BEFORE_KILL) {
        expect(stack.kill(victim.name, 'SIGKILL')).toBe(true);
        killedAt = Date.now();
      }
      const started = Date.now();
      // Each key's events of a round are published at once: the publisher keeps them in call order.
      const sends = keys.flatMap((key) =>
        Array.from({ length: PER_KEY_PER_ROUND }, () => {
          const id = randomUUID();
          const ids = published.get(key) ?? [];
          ids.push(id);
          published.set(key, ids);
          return publisher.publish(CANCELLED, sampleEvent(CANCELLED, key), { id });
        }),
      );
      for (const outcome of await Promise.allSettled(sends)) {
        if (outcome.status === 'fulfilled') acknowledged += 1;
        else refused.push(outcome.reason);
      }
      slowest = Math.max(slowest, Date.now() - started);
    }
    expect(refused.map((e) => (e as JunctionError).message)).toEqual([]);
    const total = KEYS * PER_KEY_PER_ROUND * (ROUNDS_BEFORE_KILL + ROUNDS_AFTER_KILL);
    expect(acknowledged).toBe(total);
    // The failover really happened under the load: one round waited for the new leaders.
    expect(slowest).toBeGreaterThan(1000);
    expect(Date.now() - killedAt).toBeGreaterThan(slowest);

    const records = await readRecords(contracts.kafka, [topic], total, 90_000);
    const written = new Map<string, string[]>();
    for (const record of records.sort((a, b) => Number(a.offset) - Number(b.offset))) {
      const ids = written.get(record.key) ?? [];
      ids.push(record.headers.ce_id as string);
      written.set(record.key, ids);
    }
    // Every key's events once each, in the order they were published.
    for (const key of keys) expect(written.get(key), key).toEqual(published.get(key));
    expect(await countRecords(contracts.admin, [topic])).toBe(total);
  });

  it('fails a publish Kafka keeps refusing past the timeout as outcome-unknown, naming its events, which publish again under the same ids', {
    timeout: 120_000,
  }, async () => {
    const setMinInsync = async (value: string) => {
      await contracts.admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'min.insync.replicas', value }] }],
      });
      await until(
        async () => {
          const described = await contracts.admin.describeConfigs({
            includeSynonyms: false,
            resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
          });
          return described.resources[0]?.configEntries[0]?.configValue === value;
        },
        10_000,
        `the brokers to apply min.insync.replicas=${value}`,
      );
    };
    // With a node dead, the in-sync replicas are two: a topic wanting three refuses every produce
    // with NOT_ENOUGH_REPLICAS, which Kafka says may pass (the node may come back).
    await until(
      async () => {
        const [metadata] = (await contracts.admin.fetchTopicMetadata({ topics: [topic] })).topics;
        return metadata?.partitions.every((p) => p.isr.length === 2) ?? false;
      },
      60_000,
      'the dead node to leave every in-sync replica set',
    );
    await setMinInsync('3');
    // The old count of retries (5, from 100 ms) gave up after about 3 s; this timeout is longer.
    const patient = createPublisher({
      service: 'orders',
      kafka: { brokers: stack.brokers },
      registry: { url: stackFromEnv().schemaRegistryUrl },
      catalog: contracts.catalog,
      sendTimeoutMs: 6000,
    });
    const key = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const events = ids.map((id) => ({ type: CANCELLED, data: sampleEvent(CANCELLED, key), options: { id } }));
    try {
      const before = await countRecords(contracts.admin, [topic]);
      const started = Date.now();
      const error = await patient.publishMany(events).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(JunctionError);
      expect(error).toMatchObject({
        code: 'publisher.outcome-unknown',
        retriable: true,
        context: { eventIds: ids, reason: 'broker.unavailable' },
      });
      expect((error as Error).message).toContain('NOT_ENOUGH_REPLICAS');
      expect((error as Error).message).toContain(`Publish them again with the same ids (${ids.join(', ')}; PublishOptions.id)`);
      expect(waited).toBeGreaterThanOrEqual(5000);
      expect(waited).toBeLessThan(9000);
      // The refused request's bytes are given back once kafkajs lets go of it.
      await patient.flush();
      expect(patient.stats).toMatchObject({ inFlightBytes: 0, waitingBytes: 0 });

      await setMinInsync('2');
      const again: PublishResult[] = await patient.publishMany(events);
      expect(again.map((result) => result.id)).toEqual(ids);
      // NOT_ENOUGH_REPLICAS is refused before the append: the events are in the log once, from the second publish.
      expect(await countRecords(contracts.admin, [topic])).toBe(before + ids.length);
    } finally {
      await setMinInsync('2').catch(() => {});
      await patient.close();
    }
  });
});
