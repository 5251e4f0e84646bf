import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { stackFromEnv } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEventHeaders, headersToStrings } from './cloudevents.ts';
import { createAvroCodec } from './codec.ts';
import { subjectName } from './contracts/catalog.ts';
import { createTopicsReady } from './contracts/topics.ts';

// Against the real broker and the real registry (Apicurio through its Confluent-compatible API).

const suffix = randomBytes(4).toString('hex');
const topic = `codec.test-${suffix}`;
const namespace = `com.junction.test${suffix}`;

const v1 = {
  type: 'record',
  name: 'ParcelShipped',
  namespace,
  fields: [
    { name: 'parcelId', type: 'string' },
    { name: 'weightGrams', type: 'int' },
  ],
};
/** v2 adds an optional field with a default: compatible both ways. */
const v2 = { ...v1, fields: [...v1.fields, { name: 'carrier', type: ['null', 'string'], default: null }] };
/** Adding a required field without a default breaks old readers of new data and new readers of old data. */
const breaking = { ...v1, fields: [...v1.fields, { name: 'insured', type: 'boolean' }] };

describe('Avro through the schema registry and Kafka', () => {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  const codec = createAvroCodec({ registryUrl: schemaRegistryUrl });
  const subject = subjectName(topic, `${namespace}.ParcelShipped`);
  const kafka = new Kafka({ clientId: 'codec-test', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 3 }]);
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    await fetch(`${schemaRegistryUrl}/subjects/${subject}`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
  });

  it('registers a schema, produces a keyed event and consumes it back decoded', async () => {
    const id = await codec.register(subject, v1);
    expect(await codec.register(subject, v1)).toBe(id);
    const value = await codec.encode(id, { parcelId: 'p-1', weightGrams: 1200 });
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(id);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const headers = cloudEventHeaders({ type: `${namespace}.ParcelShipped.v1`, source: '/test', subject: 'p-1' });
    const [sent] = await producer.send({ topic, acks: -1, messages: [{ key: 'p-1', value, headers }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `codec-test-${suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = Promise.withResolvers<{ key: string; partition: number; value: unknown; headers: Record<string, string> }>();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!message.value) return;
        const decoded = await codec.decode(message.value, v1);
        received.resolve({
          key: message.key?.toString() ?? '',
          partition,
          value: decoded.value,
          headers: headersToStrings(message.headers),
        });
      },
    });
    const got = await received.promise;
    await consumer.disconnect();
    expect(got.key).toBe('p-1');
    expect(got.partition).toBe(sent?.partition);
    expect(got.value).toEqual({ parcelId: 'p-1', weightGrams: 1200 });
    expect(got.headers.ce_id).toBe(headers.ce_id);
  });

  it('looks a schema up by id', async () => {
    const id = await codec.latestId(subject);
    expect(await codec.schema(id)).toEqual(v1);
    const fresh = createAvroCodec({ registryUrl: schemaRegistryUrl });
    const framed = await codec.encode(id, { parcelId: 'p-2', weightGrams: 5 });
    expect((await fresh.decode(framed)).value).toEqual({ parcelId: 'p-2', weightGrams: 5 });
  });

  it('accepts a compatible change and reads old and new data both ways', async () => {
    const id1 = await codec.latestId(subject);
    const id2 = await codec.register(subject, v2);
    expect(id2).not.toBe(id1);
    const oldEvent = await codec.encode(id1, { parcelId: 'old', weightGrams: 1 });
    const newEvent = await codec.encode(id2, { parcelId: 'new', weightGrams: 2, carrier: 'DHL' });
    expect((await codec.decode(oldEvent, v2)).value).toEqual({ parcelId: 'old', weightGrams: 1, carrier: null });
    expect((await codec.decode(newEvent, v1)).value).toEqual({ parcelId: 'new', weightGrams: 2 });
  });

  it('rejects an incompatible change under FULL_TRANSITIVE', async () => {
    const config = (await (await fetch(`${schemaRegistryUrl}/config`)).json()) as { compatibilityLevel: string };
    expect(config.compatibilityLevel).toBe('FULL_TRANSITIVE');
    await expect(codec.register(subject, breaking)).rejects.toMatchObject({ code: 'schema.incompatible', retriable: false });
  });

  it('names the invalid fields of an event that does not match its schema', async () => {
    const id = await codec.latestId(subject);
    await expect(codec.encode(id, { parcelId: 42, weightGrams: 'heavy' })).rejects.toMatchObject({
      code: 'event.invalid',
      context: {
        fields: [
          { path: 'parcelId', reason: 'expected a string, got 42' },
          { path: 'weightGrams', reason: 'expected a 32-bit integer, got "heavy"' },
        ],
      },
    });
  });

  it('says an unknown schema id is unknown', async () => {
    await expect(codec.schema(987_654)).rejects.toMatchObject({ code: 'schema.unknown' });
  });

  it('fails fast and retriably when the registry does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    await new Promise((resolve) => closed.close(resolve));
    const down = createAvroCodec({ registryUrl: `http://127.0.0.1:${address.port}/apis/ccompat/v7`, retries: 2, timeoutMs: 500 });
    const started = Date.now();
    await expect(down.register('nobody', v1)).rejects.toMatchObject({ code: 'registry.unavailable', retriable: true });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
