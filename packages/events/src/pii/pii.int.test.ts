import { randomBytes, randomUUID } from 'node:crypto';
import { stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventContract } from '../contracts/catalog.ts';
import { createPublisher, type Publisher } from '../publisher/publisher.ts';
import { createSubscriber } from '../subscriber/subscriber.ts';
import type { Subscriber } from '../subscriber/subscriber-options.ts';
import { DLQ_HEADERS, deadLetterTopic, type EventContext } from '../subscriber/types.ts';
import { type PrivateContracts, privateContracts, type ReadRecord, readRecords, until } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';
import { isPiiCiphertext, PII_KEY_ID_HEADER, piiKeyIdOf } from './cipher.ts';
import { createPiiKeyring, type PiiKeyring } from './keyring.ts';

// Against the real broker and registry: what is on the topic, byte for byte, and what each kind
// of consumer gets back.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const ORDER = 'com.junction.orders.OrderPlaced';
const key = () => randomBytes(32).toString('base64');
const [retiredKey, currentKey] = [key(), key()];
/** Publishers and readers after a rotation: `cur` encrypts, `old` is kept to read older records. */
const rotated = createPiiKeyring({ keys: { old: retiredKey, cur: currentKey }, active: 'cur' });
/** A publisher from before the rotation. */
const beforeRotation = createPiiKeyring({ keys: { old: retiredKey } });
/** A reader that dropped the retired key too early. */
const currentOnly = createPiiKeyring({ keys: { cur: currentKey } });

let contracts: PrivateContracts;
let topic: string;
const publishers: Publisher[] = [];
const subscribers: Subscriber[] = [];
const groups: string[] = [];

/** An order whose personal strings are unique to this run, so finding one anywhere in the bytes means it leaked. */
function distinctiveOrder(): { data: Record<string, unknown>; secrets: string[] } {
  const tag = randomBytes(6).toString('hex');
  const address = {
    line1: `${tag} Secret Lane 7`,
    line2: `Flat ${tag}b`,
    city: `Town${tag}c`,
    postalCode: `PC${tag}d`,
    country: `C${tag}e`,
  };
  const email = `pii-${tag}@example.test`;
  return {
    data: { ...sampleEvent(ORDER, randomUUID()), customerEmail: email, shippingAddress: address },
    secrets: [email, ...Object.values(address)],
  };
}

function publisherWith(pii: PiiKeyring): Publisher {
  const publisher = createPublisher({
    service: 'orders',
    kafka: { brokers },
    registry: { url: schemaRegistryUrl },
    catalog: contracts.catalog,
    pii,
  });
  publishers.push(publisher);
  return publisher;
}

/** A started subscriber of OrderPlaced with `pii`, collecting what its handler sees by event id. */
async function subscriberWith(pii: PiiKeyring | false) {
  const group = `test-pii-${randomBytes(4).toString('hex')}`;
  groups.push(group);
  const seen = new Map<string, Record<string, unknown>>();
  const subscriber = createSubscriber({
    group,
    kafka: { brokers },
    registry: { url: schemaRegistryUrl },
    catalog: contracts.catalog,
    pii,
    retry: { delaysMs: [200], inPlace: { retries: 0 } },
    handlers: {
      [ORDER]: async (ctx: EventContext) => {
        seen.set(ctx.event?.id as string, ctx.event?.data as Record<string, unknown>);
      },
    },
  });
  subscribers.push(subscriber);
  await subscriber.start();
  return { group, seen, subscriber };
}

/** Where a secret shows in a raw record, if anywhere: key, value, header names and values. */
function leaks(record: ReadRecord & { rawHeaders: Record<string, Buffer> }, secrets: string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    const bytes = Buffer.from(secret);
    if (Buffer.from(record.key).includes(bytes)) found.push(`${secret} in the key`);
    if (record.value.includes(bytes)) found.push(`${secret} in the value`);
    for (const [name, value] of Object.entries(record.rawHeaders)) {
      if (Buffer.from(name).includes(bytes) || value.includes(bytes)) found.push(`${secret} in header ${name}`);
    }
  }
  return found;
}

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 1 });
  topic = eventContract(contracts.catalog, ORDER).topic;
});

afterAll(async () => {
  await Promise.all(subscribers.map((s) => s.stop({ deadlineMs: 5000 })));
  await Promise.all(publishers.map((p) => p.close()));
  if (contracts) {
    const own = (await contracts.admin.listTopics()).filter((name) => groups.some((group) => name.startsWith(`${group}.`)));
    if (own.length) await contracts.admin.deleteTopics({ topics: own }).catch(() => {});
    await contracts.cleanup();
  }
});

describe('personal fields on Kafka', () => {
  const current = distinctiveOrder();
  const retired = distinctiveOrder();
  let currentId: string;
  let retiredId: string;

  beforeAll(async () => {
    currentId = (await publisherWith(rotated).publish(ORDER, current.data)).id;
    retiredId = (await publisherWith(beforeRotation).publish(ORDER, retired.data)).id;
  });

  it('never appear in clear in the raw record bytes: key, value or headers', async () => {
    // A plain kafkajs consumer, as anyone with read access to the topic would have.
    const consumer = contracts.kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
    const raw: Array<ReadRecord & { rawHeaders: Record<string, Buffer> }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const rawHeaders = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, Buffer.from(String(value))]),
          );
          raw.push({
            topic,
            partition: 0,
            offset: message.offset,
            key: message.key?.toString() ?? '',
            value: message.value ?? Buffer.alloc(0),
            headers: Object.fromEntries(Object.entries(rawHeaders).map(([name, value]) => [name, value.toString()])),
            rawHeaders,
          });
        },
      });
      await until(() => raw.length >= 2, 30_000, 'both records');
    } finally {
      await consumer.disconnect();
    }
    const byId = new Map(raw.map((record) => [record.headers.ce_id, record]));
    const [now, old] = [byId.get(currentId), byId.get(retiredId)];
    expect(now && old).toBeTruthy();
    expect(leaks(now as NonNullable<typeof now>, current.secrets)).toEqual([]);
    expect(leaks(old as NonNullable<typeof old>, retired.secrets)).toEqual([]);
    // What is there instead: ciphertexts naming their key, and the key id as a header.
    expect(now?.value.toString('latin1')).toContain('jpii:v1:cur:');
    expect(now?.headers[PII_KEY_ID_HEADER]).toBe('cur');
    expect(old?.value.toString('latin1')).toContain('jpii:v1:old:');
    expect(old?.headers[PII_KEY_ID_HEADER]).toBe('old');
    // The rest of the event stays readable: the key is the order id, in clear.
    expect(now?.key).toBe(current.data.orderId);
  });

  it('a subscriber holding the keys gets the clear values, also of records under the retired key', async () => {
    const { seen } = await subscriberWith(rotated);
    await until(() => seen.has(currentId) && seen.has(retiredId), 30_000, 'both events');
    expect(seen.get(currentId)).toEqual(current.data);
    expect(seen.get(retiredId)).toEqual(retired.data);
  });

  it('a subscriber without a keyring sees ciphertexts where the personal fields are, the rest in clear', async () => {
    const { seen } = await subscriberWith(false);
    await until(() => seen.has(currentId), 30_000, 'the event');
    const data = seen.get(currentId) as { customerEmail: string; shippingAddress: Record<string, string>; orderId: string; total: string };
    expect(isPiiCiphertext(data.customerEmail)).toBe(true);
    expect(piiKeyIdOf(data.customerEmail)).toBe('cur');
    for (const value of Object.values(data.shippingAddress)) expect(isPiiCiphertext(value)).toBe(true);
    expect(data.orderId).toBe(current.data.orderId);
    expect(data.total).toBe(current.data.total);
  });

  it('a subscriber that lacks the retired key dead-letters its records as undecodable, naming the key', async () => {
    const { group, seen, subscriber } = await subscriberWith(currentOnly);
    await until(
      () => seen.has(currentId) && subscriber.stats.outcomes['dead-lettered'] === 1,
      30_000,
      'one event handled, one dead-lettered',
    );
    expect(seen.has(retiredId)).toBe(false);
    const [dead] = await readRecords(contracts.kafka, [deadLetterTopic(group, topic)], 1);
    expect(dead?.headers).toMatchObject({ ce_id: retiredId, [DLQ_HEADERS.errorCode]: 'event.undecodable', [DLQ_HEADERS.attempts]: '1' });
    expect(dead?.headers[DLQ_HEADERS.errorMessage]).toMatch(/PII key old, which this consumer's keyring lacks/);
    // The dead letter keeps the record as it was: still encrypted, so replaying it once the key is back works.
    const rawHeaders = Object.fromEntries(Object.entries(dead?.headers ?? {}).map(([name, value]) => [name, Buffer.from(value)]));
    expect(leaks({ ...(dead as ReadRecord), rawHeaders }, retired.secrets)).toEqual([]);
    expect(dead?.value.toString('latin1')).toContain('jpii:v1:old:');
  });
});

describe('publishing without keys', () => {
  it('fails as config.invalid, saying how to configure keys, and sends nothing', async () => {
    const publisher = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      pii: false,
    });
    publishers.push(publisher);
    const error = await publisher.publish(ORDER, distinctiveOrder().data).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'config.invalid', retriable: false });
    expect((error as Error).message).toMatch(/customerEmail, shippingAddress\.line1.*\.\/junction pii keygen.*JUNCTION_PII_KEYS/);
    // Validation still comes first, with clear field paths.
    const invalid = await publisher.publish(ORDER, { ...distinctiveOrder().data, customerEmail: 42 } as never).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'event.invalid' });
    expect((invalid as Error).message).toContain('customerEmail');
  });
});
