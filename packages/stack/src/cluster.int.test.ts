import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { isOurs } from './internal/processes.ts';
import { type Stack, startStack } from './stack.ts';
import { stopStack } from './stop.ts';

const TOPIC = 'acks-survive';
const BATCH = 50;
const BATCHES = 60;
const KILL_AFTER_BATCH = 20;

describe('a three-node cluster', () => {
  let stack: Stack | undefined;

  afterAll(async () => {
    if (stack) await stopStack({ stateDir: stack.stateDir, purge: true, graceMs: 5000 });
  });

  // This caught a kafkajs 2.2.4 bug (patched in patches/kafkajs@2.2.4.patch): a send whose
  // partition leader died mid-request resolved without writing that partition's messages.
  it('loses no message acknowledged with acks=all when a broker is killed -9, and writes none twice', { timeout: 240_000 }, async () => {
    stack = await startStack({
      stateDir: await mkdtemp(join(tmpdir(), 'junction-cluster-')),
      brokers: 3,
      ports: 'auto',
      registry: false,
      redis: false,
    });
    const kafka = new Kafka({
      clientId: 'failover-test',
      brokers: stack.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 3000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    // Not kafkajs's waitForLeaders: it gives up when the node it asks has not yet heard of the new
    // topic (UNKNOWN_TOPIC_OR_PARTITION, a moment's lag between KRaft nodes). Ask until all have.
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] });
    const led = async () => {
      const [topic] = (await admin.fetchTopicMetadata({ topics: [TOPIC] }).catch(() => ({ topics: [] }))).topics;
      return topic?.partitions.length === 3 && topic.partitions.every((p) => p.leader >= 0) ? topic : undefined;
    };
    await expect.poll(led, { timeout: 30_000, interval: 200 }).toBeDefined();
    const metadata = await led();
    expect(metadata?.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    const victimId = metadata?.partitions.find((p) => p.partitionId === 0)?.leader;
    const victim = stack.nodes.find((n) => n.nodeId === victimId);
    if (!victim?.pid) throw new Error(`no running node leads partition 0 (leader ${victimId})`);
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acknowledged = new Set<string>();
    let ackedAfterKill = 0;
    for (let batch = 0; batch < BATCHES; batch += 1) {
      if (batch === KILL_AFTER_BATCH) expect(stack.kill(victim.name, 'SIGKILL')).toBe(true);
      const values = Array.from({ length: BATCH }, (_, i) => `m-${batch * BATCH + i}`);
      try {
        await producer.send({
          topic: TOPIC,
          acks: -1,
          timeout: 10_000,
          messages: values.map((value) => ({ key: `k-${value.length % 7}-${value}`, value })),
        });
        for (const value of values) acknowledged.add(value);
        if (batch >= KILL_AFTER_BATCH) ackedAfterKill += values.length;
      } catch {
        // Not acknowledged: Kafka promised nothing for these, so the test claims nothing.
      }
    }
    await producer.disconnect();
    expect(isOurs({ pid: victim.pid, marker: `-Djunction.component=${join(stack.stateDir, victim.name)}` })).toBe(false);
    // Two of three nodes still meet min.insync.replicas=2: writes go on after the kill.
    expect(ackedAfterKill).toBeGreaterThan(0);

    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: `failover-check-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value?.toString();
        if (value) seen.set(value, (seen.get(value) ?? 0) + 1);
      },
    });
    await expect.poll(() => [...acknowledged].filter((v) => !seen.has(v)).length, { timeout: 90_000, interval: 500 }).toBe(0);
    await consumer.disconnect();
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_BATCH * BATCH);
    // The idempotent producer's retries after the kill must not duplicate anything.
    expect([...seen.entries()].filter(([, count]) => count > 1)).toEqual([]);
  });
});
