import { randomBytes, randomUUID } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventContract } from '../contracts/catalog.ts';
import { createPublisher, type Publisher } from '../publisher/publisher.ts';
import { type PrivateContracts, privateContracts, readRecords, until } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { createSubscriber } from './subscriber.ts';
import type { Subscriber } from './subscriber-options.ts';
import { DLQ_HEADERS, deadLetterTopic, type EventContext, RETRY_HEADERS } from './types.ts';

// Against the real broker and registry; each test has its own topics and consumer group.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const ORDER = 'com.junction.orders.OrderPlaced';
const CANCELLED = 'com.junction.orders.OrderCancelled';

let contracts: PrivateContracts;
let publisher: Publisher;
const running: Subscriber[] = [];
const cleanups: Array<() => Promise<void>> = [];

// Each test gets topics of its own, so no test sees another's records.
beforeEach(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
  const [ownContracts, ownPublisher] = [contracts, publisher];
  cleanups.push(async () => {
    await ownPublisher.close();
    await ownContracts.cleanup();
  });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop({ deadlineMs: 5000 })));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const group = () => `test-${randomBytes(4).toString('hex')}`;

function start(subscriber: Subscriber): Promise<void> {
  running.push(subscriber);
  return subscriber.start();
}

describe('a subscriber', () => {
  it('sets poison records aside in the dead-letter topic, with their story, and goes on with the others', async () => {
    const name = group();
    const topic = eventContract(contracts.catalog, ORDER).topic;
    const handled: string[] = [];
    const subscriber = createSubscriber({
      group: name,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      handlers: {
        [ORDER]: async (ctx: EventContext) => {
          handled.push((ctx.event?.data as { orderId: string } | undefined)?.orderId ?? '');
        },
      },
    });
    await start(subscriber);
    const raw = new Kafka({ clientId: 'poison', brokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    const poisonKey = randomUUID();
    await raw.send({
      topic,
      messages: [
        { key: poisonKey, value: Buffer.from('{"not":"avro"}'), headers: { ce_id: 'bad-bytes' } },
        { key: poisonKey, value: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]), headers: { ce_id: 'unknown-schema' } },
      ],
    });
    await raw.disconnect();
    const good = Array.from({ length: 5 }, () => randomUUID());
    for (const orderId of good) await publisher.publish(ORDER, sampleEvent(ORDER, orderId));

    await until(() => good.every((id) => handled.includes(id)), 30_000, 'the good events');
    const dead = await readRecords(contracts.kafka, [deadLetterTopic(name, topic)], 2);
    const byId = new Map(dead.map((r) => [r.headers.ce_id, r]));
    expect(byId.get('bad-bytes')?.headers).toMatchObject({
      [DLQ_HEADERS.originalTopic]: topic,
      [DLQ_HEADERS.group]: name,
      [DLQ_HEADERS.errorCode]: 'event.undecodable',
      [DLQ_HEADERS.attempts]: '1',
    });
    expect(byId.get('unknown-schema')?.headers).toMatchObject({ [DLQ_HEADERS.errorCode]: 'schema.unknown' });
    for (const record of dead) {
      expect(record.key).toBe(poisonKey);
      for (const header of Object.values(DLQ_HEADERS)) expect(record.headers[header], header).toBeDefined();
    }
    expect(byId.get('bad-bytes')?.value.toString()).toBe('{"not":"avro"}');
    expect(subscriber.stats.outcomes['dead-lettered']).toBe(2);
  });

  it('retries a transient failure through its retry topics, honouring their delays, until it succeeds', async () => {
    const name = group();
    const attempts: Array<{ attempt: number; at: number; topic: string }> = [];
    const subscriber = createSubscriber({
      group: name,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { delaysMs: [300, 1500], inPlace: { retries: 0 } },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now(), topic: ctx.record.topic });
          if (ctx.attempt < 3) throw new JunctionError('broker.unavailable', 'the payment provider is down (a stand-in for one)');
        },
      },
    });
    await start(subscriber);
    await publisher.publish(CANCELLED, sampleEvent(CANCELLED));
    await until(() => attempts.length === 3, 30_000, 'three attempts');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts[1]?.topic).toMatch(new RegExp(`^${name}\\..+\\.retry\\.1$`));
    expect(attempts[2]?.topic).toMatch(new RegExp(`^${name}\\..+\\.retry\\.2$`));
    // Each stage waits at least its delay after the failure that sent the record there.
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(1500);
    await until(() => subscriber.stats.outcomes.ok === 1, 10_000, 'the success to be counted');
    expect(subscriber.stats.outcomes.retried).toBe(2);
  });

  it('dead-letters a record whose retries ran out, with the attempts and its original coordinates', async () => {
    const name = group();
    const topic = eventContract(contracts.catalog, CANCELLED).topic;
    const subscriber = createSubscriber({
      group: name,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { delaysMs: [100], inPlace: { retries: 0 } },
      handlers: {
        [CANCELLED]: async () => {
          throw new JunctionError('timeout', 'the warehouse system did not answer');
        },
      },
    });
    await start(subscriber);
    const sent = await publisher.publish(CANCELLED, sampleEvent(CANCELLED));
    const [dead] = await readRecords(contracts.kafka, [deadLetterTopic(name, topic)], 1);
    expect(dead?.headers).toMatchObject({
      ce_id: sent.id,
      [DLQ_HEADERS.originalTopic]: topic,
      [DLQ_HEADERS.originalPartition]: String(sent.partition),
      [DLQ_HEADERS.originalOffset]: sent.offset,
      [DLQ_HEADERS.errorCode]: 'timeout',
      [DLQ_HEADERS.attempts]: '2',
    });
    expect(dead?.headers[RETRY_HEADERS.dueAt]).toBeUndefined();
  });

  it('in key mode runs keys at once and keeps each key in order', async () => {
    const name = group();
    const keys: string[] = Array.from({ length: 40 }, () => randomUUID());
    const seen = new Map<string, number[]>();
    let concurrent = 0;
    let most = 0;
    const subscriber = createSubscriber({
      group: name,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      ordering: 'key',
      maxConcurrency: 32,
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          concurrent += 1;
          most = Math.max(most, concurrent);
          await new Promise((resolve) => setTimeout(resolve, 5));
          const key = ctx.record.key as string;
          seen.set(key, [...(seen.get(key) ?? []), Number(ctx.record.headers['x-seq'])]);
          concurrent -= 1;
        },
      },
    });
    await start(subscriber);
    await Promise.all(
      Array.from({ length: 800 }, (_, i) =>
        publisher.publish(CANCELLED, sampleEvent(CANCELLED, keys[i % keys.length]), { headers: { 'x-seq': String(i) } }),
      ),
    );
    await until(() => [...seen.values()].reduce((n, list) => n + list.length, 0) >= 800, 60_000, '800 events');
    for (const list of seen.values()) expect(list).toEqual(list.toSorted((a, b) => a - b));
    expect(most).toBeGreaterThan(3);
    expect(most).toBeLessThanOrEqual(32);
  });

  it("reads an old writer's event with the reader schema it was built with", async () => {
    const seen: Array<Record<string, unknown>> = [];
    await start(
      createSubscriber({
        group: group(),
        kafka: { brokers },
        registry: { url: schemaRegistryUrl },
        catalog: contracts.catalog,
        handlers: {
          [ORDER]: async (ctx: EventContext) => {
            seen.push({ version: ctx.event?.version, ...(ctx.event?.data as object) });
          },
        },
      }),
    );
    const { couponCode: _, ...v1 } = sampleEvent(ORDER);
    await publisher.publish(ORDER, v1, { version: 1 });
    await until(() => seen.length === 1, 30_000, 'the v1 event');
    expect(seen[0]).toMatchObject({ version: 1, couponCode: null, orderId: v1.orderId, total: '44.48' });
    expect(seen[0]?.placedAt).toBeInstanceOf(Date);
  });

  it('on stop, lets running work finish, commits it, and the group resumes after it', async () => {
    const name = group();
    const handled: string[] = [];
    const make = () =>
      createSubscriber({
        group: name,
        kafka: { brokers },
        registry: { url: schemaRegistryUrl },
        catalog: contracts.catalog,
        handlers: {
          [CANCELLED]: async (ctx: EventContext) => {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            handled.push(ctx.event?.id ?? '');
          },
        },
      });
    const first = make();
    await first.start();
    const sent = await publisher.publish(CANCELLED, sampleEvent(CANCELLED));
    await until(() => first.stats.inFlightRecords === 1, 30_000, 'the event to be taken on');
    await first.stop({ deadlineMs: 10_000 });
    expect(handled).toEqual([sent.id]);
    // A new member of the group starts after the committed offset: the event is not handled again.
    const second = make();
    await start(second);
    const next = await publisher.publish(CANCELLED, sampleEvent(CANCELLED));
    await until(() => handled.length === 2, 30_000, 'the next event');
    expect(handled).toEqual([sent.id, next.id]);
  });

  it('retries a transient failure in place first, without a retry topic', async () => {
    const attempts: number[] = [];
    const subscriber = createSubscriber({
      group: group(),
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { inPlace: { retries: 2, backoff: { initialMs: 20, multiplier: 2, maxMs: 100, jitter: 0 } } },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt < 2) throw new JunctionError('timeout', 'the warehouse was slow once');
        },
      },
    });
    await start(subscriber);
    await publisher.publish(CANCELLED, sampleEvent(CANCELLED));
    await until(() => subscriber.stats.outcomes.ok === 1, 30_000, 'the event');
    expect(attempts).toEqual([1, 2]);
    expect(subscriber.stats.outcomes.retried).toBe(0);
  });

  it('pauses while its circuit breaker is open and handles everything once the dependency is back', async () => {
    let dependencyUp = false;
    const handled = new Set<string>();
    let sawPause = false;
    const subscriber = createSubscriber({
      group: group(),
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { inPlace: { retries: 0 } },
      breaker: { failureThreshold: 3, openMs: 500 },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          if (!dependencyUp) throw new JunctionError('broker.unavailable', 'the payment provider is down (a stand-in for one)');
          handled.add(ctx.event?.id ?? '');
        },
      },
    });
    await start(subscriber);
    const sent = await Promise.all(Array.from({ length: 20 }, () => publisher.publish(CANCELLED, sampleEvent(CANCELLED))));
    const watch = setInterval(() => {
      sawPause ||= subscriber.stats.pausedPartitions > 0;
    }, 10);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    dependencyUp = true;
    await until(() => handled.size === 20, 30_000, 'all 20 events').finally(() => clearInterval(watch));
    expect(handled).toEqual(new Set(sent.map((s) => s.id)));
    expect(sawPause).toBe(true);
    // Only the failures before the circuit opened, and each failed probe, went to a retry topic;
    // without the breaker every one of the 20 would have, again and again. None was dead-lettered.
    expect(subscriber.stats.outcomes['dead-lettered']).toBe(0);
    expect(subscriber.stats.outcomes.retried).toBeLessThan(10);
  });

  it("in blocking mode retries in place, keeps the key's order, and makes no retry topics", async () => {
    const name = group();
    const key = randomUUID();
    const order: number[] = [];
    let failuresLeft = 2;
    const subscriber = createSubscriber({
      group: name,
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { mode: 'blocking', inPlace: { retries: 3, backoff: { initialMs: 50, multiplier: 2, maxMs: 200, jitter: 0 } } },
      handlers: {
        [CANCELLED]: async (ctx: EventContext) => {
          const seq = Number(ctx.record.headers['x-seq']);
          if (seq === 0 && failuresLeft > 0) {
            failuresLeft -= 1;
            throw new JunctionError('timeout', 'the warehouse was slow');
          }
          order.push(seq);
        },
      },
    });
    await start(subscriber);
    for (let seq = 0; seq < 3; seq += 1)
      await publisher.publish(CANCELLED, sampleEvent(CANCELLED, key), { headers: { 'x-seq': String(seq) } });
    await until(() => order.length === 3, 30_000, 'three events');
    expect(order).toEqual([0, 1, 2]);
    expect(subscriber.stats.outcomes.retried).toBe(0);
    const topics = await contracts.admin.listTopics();
    expect(topics.filter((topic) => topic.startsWith(`${name}.`) && topic.includes('.retry.'))).toEqual([]);
  });
});
