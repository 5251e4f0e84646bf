import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  createPublisher,
  createSubscriber,
  createTopicsReady,
  deadLetterTopic,
  type EventContext,
  eventContract,
  JunctionError,
  loadCatalog,
  memoryInbox,
  REPLAY_COUNT_HEADER,
  renameTopics,
} from '@junction/events';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../internal/paths.ts';
import { runCli } from '../testing/cli.ts';

// The whole loop: events a subscriber cannot handle go to its dead-letter topic; once the cause
// is fixed, `junction dlq replay` sends them back and the same subscriber handles them, once.

const CANCELLED = 'com.junction.orders.OrderCancelled';

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('dead letters and replay', () => {
  it('brings dead-lettered events back through the handler once the cause is fixed', { timeout: 180_000 }, async () => {
    const { brokers, schemaRegistryUrl } = stackFromEnv();
    const suffix = randomBytes(4).toString('hex');
    const catalog = renameTopics(await loadCatalog(join(repositoryRoot(), 'schemas')), (name) => `${name}.t${suffix}`);
    const topic = eventContract(catalog, CANCELLED).topic;
    const kafka = new Kafka({ clientId: 'replay-test', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 3 }]);
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog,
      autoRegister: true,
    });

    // Until the bug is fixed, the handler refuses these events as invalid: not retriable, so straight to the DLQ.
    let fixed = false;
    const handled: string[] = [];
    const group = `replay-${suffix}`;
    const subscriber = createSubscriber({
      group,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog,
      idempotency: { store: memoryInbox(), ttlMs: 3_600_000 },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          if (!fixed) throw new JunctionError('event.invalid', 'cancelledBy "robot" is not a known actor (a bug of ours, fixed below)');
          handled.push(ctx.event?.id ?? '');
          expect(ctx.record.headers[REPLAY_COUNT_HEADER]).toBe('1');
        },
      },
    });
    try {
      await subscriber.start();
      const sent = await Promise.all(
        Array.from({ length: 5 }, () =>
          publisher.publish(CANCELLED, { orderId: randomUUID(), reason: 'duplicate order', cancelledBy: 'robot', cancelledAt: new Date() }),
        ),
      );
      await until(() => subscriber.stats.outcomes['dead-lettered'] === 5, 60_000, 'five dead letters');
      expect(handled).toEqual([]);

      fixed = true;
      const dlq = deadLetterTopic(group, topic);
      const listed = await runCli(['dlq', 'list', '--brokers', brokers.join(','), '--group', group]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(dlq);
      expect(listed.stdout).toContain('event.invalid');

      const replayed = await runCli(['dlq', 'replay', dlq, '--brokers', brokers.join(',')]);
      expect(replayed.code, replayed.stderr).toBe(0);
      await until(() => handled.length === 5, 60_000, 'the replayed events to be handled');
      expect(handled.toSorted()).toEqual(sent.map((s) => s.id).toSorted());
      // Nothing went to the DLQ again.
      expect(subscriber.stats.outcomes['dead-lettered']).toBe(5);
    } finally {
      await subscriber.stop({ deadlineMs: 5000 });
      await publisher.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});
