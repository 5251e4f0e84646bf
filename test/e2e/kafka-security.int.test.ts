import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  aclBindings,
  applyAcls,
  brokerDenied,
  type Catalog,
  createPublisher,
  createSubscriber,
  createTopicsReady,
  type EventContext,
  groupDenied,
  JunctionError,
  type KafkaConnection,
  kafkaConnectionFromEnv,
  kafkaPort,
  kafkaSecurityConfig,
  loadCatalog,
  type Publisher,
  type Subscriber,
  servicePrincipal,
} from '@junction/events';
import { type Stack, stackFromEnv, startStack, stopStack } from '@junction/stack';
import kafkajs, { type Admin, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRecords, until } from '../../packages/events/src/testing/contracts.ts';
import { sampleEvent } from '../../packages/events/src/testing/samples.ts';

/**
 * Kafka in secure mode (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer) with the ACLs of the real
 * schemas/topics.yaml: a service writes only what it owns (or is a writer of), reads what it
 * subscribes to, and owns its `<service>.` topics. Its own stack (Kafka alone, throwaway); the
 * registry is the run's shared one, which never talks to this Kafka.
 */
const ROOT = resolve(import.meta.dirname, '../..');
// kafkajs is CommonJS and spreads its errors into its exports, which hides these from named imports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const ORDER_PLACED = 'com.junction.orders.OrderPlaced';
const ORDER_CANCELLED = 'com.junction.orders.OrderCancelled';
const ORDERS_TOPIC = 'orders.order';

let stateDir: string;
let stack: Stack;
let catalog: Catalog;
let admin: Admin;
let registryUrl: string;
const publishers: Publisher[] = [];
const subscribers: Subscriber[] = [];

/** How a service connects: from the environment the stack gives it, as a service process would. */
const connectionOf = (user: string): KafkaConnection => kafkaConnectionFromEnv(stack.security?.env(user) ?? {});

const publisherAs = (service: string, kafka: KafkaConnection): Publisher => {
  const publisher = createPublisher({
    service,
    kafka,
    registry: { url: registryUrl },
    catalog,
    autoRegister: true,
    sendTimeoutMs: 10_000,
    retry: { retries: 1, initialMs: 50, maxMs: 200 },
  });
  publishers.push(publisher);
  return publisher;
};

/** Where an attempt failed: the JunctionError, or a failure of the test when it succeeded. */
async function failureOf(attempt: Promise<unknown>): Promise<JunctionError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected Kafka to refuse').toBeInstanceOf(JunctionError);
  return error as JunctionError;
}

/** Runs `fn` with a kafkajs admin connected as `connection`; fails with what Kafka said. */
async function asClient<T>(connection: KafkaConnection, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const client = kafkaPort(connection, {
    clientId: 'security-test',
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 5000,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.disconnect().catch(() => {});
  }
}

beforeAll(async () => {
  registryUrl = stackFromEnv().schemaRegistryUrl;
  catalog = await loadCatalog(join(ROOT, 'schemas'));
  const services = [...new Set(['gateway', ...catalog.topics.flatMap((t) => [t.owner, ...(t.writers ?? []), ...t.subscribers])])].sort();
  stateDir = await mkdtemp(join(tmpdir(), 'junction-secure-'));
  const started = Date.now();
  stack = await startStack({
    stateDir,
    ports: 'auto',
    secure: true,
    kafkaUsers: services,
    registry: false,
    postgres: false,
    redis: false,
    prometheus: false,
    kafkaHeap: '384m',
  });
  process.stderr.write(`secure stack up in ${Date.now() - started} ms\n`);
  const security = stack.security;
  if (!security) throw new Error('startStack({ secure: true }) returned no security');
  admin = kafkaPort(security.connection('admin'), { clientId: 'security-test-admin' }).admin();
  await admin.connect();
  await createTopicsReady(admin, [
    ...catalog.topics.map((t) => ({ topic: t.name, numPartitions: 1 })),
    { topic: 'billing.orders.order.retry.1', numPartitions: 1 },
  ]);
  // A grant left over from before (inventory writing orders.order) is stale: applying removes it.
  await admin.createAcls({
    acl: [
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: ORDERS_TOPIC,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:inventory',
        host: '*',
        operation: AclOperationTypes.WRITE,
        permissionType: AclPermissionTypes.ALLOW,
      },
    ],
  });
  // The broker's authorizer learns ACLs from the metadata log a moment after the controller took them.
  const filter = {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: ORDERS_TOPIC,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:inventory',
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  };
  await until(async () => (await admin.describeAcls(filter)).resources.length > 0, 10_000, 'the stale grant to show');
  const changes = await applyAcls(admin, aclBindings(catalog), { principals: services.map(servicePrincipal) });
  expect(changes.added.length).toBeGreaterThan(0);
  expect(changes.removed).toEqual([
    { principal: 'User:inventory', resourceType: 'TOPIC', resourceName: ORDERS_TOPIC, patternType: 'LITERAL', operation: 'WRITE' },
  ]);
  // Applying again changes nothing, once the broker has caught up with the grants just made.
  await until(
    async () => {
      const again = await applyAcls(admin, aclBindings(catalog), { principals: services.map(servicePrincipal) });
      return again.added.length === 0 && again.removed.length === 0 && again.unchanged === aclBindings(catalog).length;
    },
    10_000,
    'a second apply to change nothing',
  );
});

afterAll(async () => {
  await Promise.allSettled(subscribers.map((s) => s.stop({ deadlineMs: 5000 })));
  await Promise.allSettled(publishers.map((p) => p.close()));
  await admin?.disconnect().catch(() => {});
  if (stateDir) {
    await stopStack({ stateDir, purge: true, graceMs: 5000 });
    await rm(stateDir, { recursive: true, force: true });
  }
});

describe('Kafka in secure mode, with the ACLs of schemas/topics.yaml', () => {
  it('lets orders publish an order event it owns, through a KafkaConnection from the environment', async () => {
    const result = await publisherAs('orders', connectionOf('orders')).publish(ORDER_PLACED, sampleEvent(ORDER_PLACED));
    expect(result).toMatchObject({ topic: ORDERS_TOPIC });
    expect(await countRecords(admin, [ORDERS_TOPIC])).toBe(1);
  });

  it("refuses inventory writing the orders domain's topic: broker.denied naming user, topic and the fix, and nothing lands", async () => {
    const before = await countRecords(admin, [ORDERS_TOPIC]);
    const error = await failureOf(
      publisherAs('inventory', connectionOf('inventory')).publish(ORDER_CANCELLED, sampleEvent(ORDER_CANCELLED)),
    );
    expect(error.code).toBe('broker.denied');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('user inventory');
    expect(error.message).toContain(ORDERS_TOPIC);
    expect(error.message).toContain('schemas/topics.yaml (owner/writers/subscribers)');
    expect(await countRecords(admin, [ORDERS_TOPIC])).toBe(before);
  });

  it('lets the gateway, a writer of orders.order, publish to it', async () => {
    const before = await countRecords(admin, [ORDERS_TOPIC]);
    await publisherAs('gateway', connectionOf('gateway')).publish(ORDER_CANCELLED, sampleEvent(ORDER_CANCELLED));
    expect(await countRecords(admin, [ORDERS_TOPIC])).toBe(before + 1);
  });

  it('adds a user a running secure stack lacks (a service new in topics.yaml), who then connects', async () => {
    const again = await startStack({ stateDir, secure: true, kafkaUsers: ['shipping'] });
    expect(again.alreadyRunning).toBe(true);
    expect(again.security?.users).toContain('shipping');
    const topics = await asClient(kafkaConnectionFromEnv(again.security?.env('shipping') ?? {}), (client) => client.listTopics());
    // Authenticated, and authorized for nothing: it sees no topic.
    expect(topics).toEqual([]);
  });

  it('refuses a wrong password (broker.denied) and a client without credentials', async () => {
    const wrong = {
      ...connectionOf('orders'),
      sasl: { mechanism: 'scram-sha-512' as const, username: 'orders', password: 'not-the-password' },
    };
    const error = await failureOf(publisherAs('orders', wrong).publish(ORDER_CANCELLED, sampleEvent(ORDER_CANCELLED)));
    expect(error.code).toBe('broker.denied');
    expect(error.message).toContain('refused the credentials of user orders');

    const anonymous = { brokers: stack.brokers, ssl: { ca: connectionOf('orders').ssl?.ca } };
    await expect(asClient(anonymous, (client) => client.listTopics())).rejects.toThrow();
  });

  it('speaks TLS only: a client trusting no local CA, or speaking plaintext, cannot connect', async () => {
    const { sasl } = connectionOf('orders');
    // ssl without a CA trusts the system's CAs, which never signed the stack's certificate.
    await expect(asClient({ brokers: stack.brokers, ssl: {}, sasl }, (client) => client.listTopics())).rejects.toThrow(
      /certificate|self.signed|unable to verify/i,
    );
    await expect(asClient({ brokers: stack.brokers }, (client) => client.listTopics())).rejects.toThrow();
  });

  it('lets inventory consume orders.order as group inventory and make its own retry topics, but not billing. ones or its group', async () => {
    const { id } = await publisherAs('orders', connectionOf('orders')).publish(ORDER_PLACED, sampleEvent(ORDER_PLACED));
    const seen: string[] = [];
    const subscriber = createSubscriber({
      group: 'inventory',
      kafka: connectionOf('inventory'),
      registry: { url: registryUrl },
      catalog,
      retry: { delaysMs: [1000] },
      handlers: {
        [ORDER_PLACED]: async (ctx: EventContext) => {
          seen.push(ctx.event?.id ?? '');
        },
        [ORDER_CANCELLED]: async (ctx: EventContext) => {
          seen.push(ctx.event?.id ?? '');
        },
      },
    });
    subscribers.push(subscriber);
    await subscriber.start();
    await until(() => seen.includes(id), 30_000, 'the order event for inventory');
    const topics = await admin.listTopics();
    expect(topics).toContain('inventory.orders.order.retry.1');
    expect(topics).toContain('inventory.orders.order.dlq');

    // A plain kafkajs client, as anyone holding inventory's credentials could make: the ACLs must hold against it.
    const raw = connectionOf('inventory');
    const inventory = new kafkajs.Kafka({
      clientId: 'inventory-raw',
      brokers: raw.brokers,
      ...kafkaSecurityConfig(raw),
      logLevel: logLevel.NOTHING,
    });
    const producer = inventory.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic: 'inventory.orders.order.retry.1', messages: [{ key: 'k', value: 'own retry topic' }] });
      await expect(producer.send({ topic: 'billing.orders.order.retry.1', messages: [{ key: 'k', value: 'x' }] })).rejects.toThrow(
        /Not authorized to access topics/,
      );
    } finally {
      await producer.disconnect();
    }
    await expect(
      asClient(connectionOf('inventory'), (client) => client.createTopics({ topics: [{ topic: `billing.x-${randomUUID()}` }] })),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })] });

    // Another service's consumer group is not inventory's to join.
    const intruder = createSubscriber({
      group: 'billing',
      kafka: connectionOf('inventory'),
      registry: { url: registryUrl },
      catalog,
      retry: { mode: 'blocking' },
      handlers: { [ORDER_PLACED]: async () => {} },
    });
    subscribers.push(intruder);
    const denied = await failureOf(intruder.start());
    expect(denied.code).toBe('broker.denied');
    expect(denied.message).toContain('user inventory');
    expect(denied.message).toContain('billing.orders.order.dlq');

    // Joining the group itself is refused too, which kafkajs reports only as a crash of the consumer
    // (and as "no group coordinator found").
    const consumer = inventory.consumer({ groupId: 'billing', retry: { retries: 0 } });
    let crash: unknown;
    consumer.on(consumer.events.CRASH, (event) => {
      crash = event.payload.error;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [ORDERS_TOPIC] });
    await consumer.run({ eachMessage: async () => {} });
    await consumer.disconnect();
    // kafkajs says only that no coordinator was found; the brokers, asked, confirm the denial.
    expect(brokerDenied(crash, 'joining', { user: 'inventory', group: 'billing' })).toBeUndefined();
    const refused = await groupDenied(crash, 'joining', { user: 'inventory', group: 'billing' }, connectionOf('inventory'));
    expect(refused?.code).toBe('broker.denied');
    expect(refused?.message).toContain('consumer group billing (GROUP_AUTHORIZATION_FAILED)');
    // The same words about a group inventory may join (a new cluster, a failover) are no denial: they may pass.
    const transient = await groupDenied(crash, 'joining', { user: 'inventory', group: 'inventory' }, connectionOf('inventory'));
    expect(transient?.code).toBe('broker.unavailable');
    expect(transient?.retriable).toBe(true);
  });
});
