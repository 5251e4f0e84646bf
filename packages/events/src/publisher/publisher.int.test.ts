import { randomUUID } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAvroCodec } from '../codec.ts';
import { eventContract, eventVersion } from '../contracts/catalog.ts';
import { countRecords, type PrivateContracts, privateContracts, readRecords } from '../testing/contracts.ts';
import { sampleEvent, sampleOrderPlacedV1 } from '../testing/samples.ts';
import { createPublisher, type Publisher } from './publisher.ts';

// Against the real broker and registry of the test stack; each test file has its own topics.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const codec = createAvroCodec({ registryUrl: schemaRegistryUrl });
const ORDER = 'com.junction.orders.OrderPlaced';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let contracts: PrivateContracts;
let publisher: Publisher;
const topicOf = (type: string) => eventContract(contracts.catalog, type).topic;

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl });
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
});

afterAll(async () => {
  await publisher?.close();
  await contracts?.cleanup();
});

describe('publish', () => {
  it('round-trips every event type with its key, CloudEvents headers and the offset Kafka gave it', async () => {
    const types = contracts.catalog.events.map((event) => event.type);
    const sent = new Map<string, { data: Record<string, unknown>; result: Awaited<ReturnType<Publisher['publish']>> }>();
    for (const type of types) {
      const data = sampleEvent(type);
      sent.set(type, { data, result: await publisher.publish(type, data) });
    }
    const topics = contracts.catalog.topics.map((t) => t.name);
    const records = await readRecords(contracts.kafka, topics, types.length);
    expect(records).toHaveLength(types.length);
    for (const record of records) {
      const type = record.headers.ce_type?.replace(/\.v\d+$/, '') as string;
      const { data, result } = sent.get(type) ?? expect.unreachable(`unexpected ${record.headers.ce_type}`);
      const contract = eventContract(contracts.catalog, type);
      expect(record).toMatchObject({
        topic: contract.topic,
        partition: result.partition,
        offset: result.offset,
        key: data[contract.keyField],
      });
      expect(record.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_id: result.id,
        ce_source: '/junction/orders',
        ce_type: eventVersion(contract).ceType,
        ce_subject: data[contract.keyField],
        'content-type': 'application/avro',
        'correlation-id': result.id,
        'causation-id': result.id,
      });
      expect(record.headers.ce_id).toMatch(UUID);
      expect(record.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(new Date(record.headers.ce_time as string).toString()).not.toBe('Invalid Date');
      const decoded = await codec.decode(record.value, eventVersion(contract).schema);
      expect(decoded.value).toEqual(data);
    }
  });

  it('carries the cause: causation-id, correlation-id and the trace of the event it reacts to', async () => {
    const orderId = randomUUID();
    const placed = await publisher.publish(ORDER, sampleEvent(ORDER, orderId), {
      correlationId: 'checkout-42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const stock = await publisher.publish(
      'com.junction.inventory.StockReserved',
      sampleEvent('com.junction.inventory.StockReserved', orderId),
      {
        causedBy: { id: placed.id, correlationId: 'checkout-42', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      },
    );
    const record = (await readAll(stock.topic)).find((r) => r.headers.ce_id === stock.id);
    expect(record?.headers).toMatchObject({ 'causation-id': placed.id, 'correlation-id': 'checkout-42' });
    expect(record?.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/);
  });

  it('lets a v1 reader read v2 events and a v2 reader read v1 events', async () => {
    const contract = eventContract(contracts.catalog, ORDER);
    const [v1, v2] = contract.versions.map((v) => v.schema);
    const oldEvent = sampleOrderPlacedV1();
    const newEvent = sampleEvent(ORDER);
    const written = await publisher.publishMany([
      { type: ORDER, data: oldEvent, options: { version: 1 } },
      { type: ORDER, data: newEvent },
    ]);
    expect(written.map((w) => w.type)).toEqual([`${ORDER}.v1`, `${ORDER}.v2`]);
    const all = await readAll(contract.topic);
    const v1Record = all.find((r) => r.headers.ce_id === written[0]?.id);
    const v2Record = all.find((r) => r.headers.ce_id === written[1]?.id);
    // A new reader of an old event sees v2's default; an old reader of a new event never sees the new field.
    expect(v1Record?.headers.ce_type).toBe(`${ORDER}.v1`);
    expect((await codec.decode(v1Record?.value as Buffer, v2)).value).toEqual({ ...oldEvent, couponCode: null });
    expect((await codec.decode(v2Record?.value as Buffer, v1)).value).toEqual(withoutCoupon(newEvent));
  });
});

/** Every record of `topic` so far. */
async function readAll(topic: string) {
  const offsets = await contracts.admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  return readRecords(contracts.kafka, [topic], total);
}

function withoutCoupon(v2: Record<string, unknown>): Record<string, unknown> {
  const { couponCode: _, ...rest } = v2;
  return rest;
}

describe('invalid events', () => {
  it('names each bad field and why, and sends nothing', async () => {
    const topic = topicOf('com.junction.billing.PaymentCaptured');
    const before = await countRecords(contracts.admin, [topic]);
    const bad = { ...sampleEvent('com.junction.billing.PaymentCaptured'), amount: 44.48, currency: undefined, capturedAt: 'yesterday' };
    const error = await publisher.publish('com.junction.billing.PaymentCaptured', bad).catch((e: unknown) => e as JunctionError);
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({ code: 'event.invalid', retriable: false });
    expect((error as JunctionError).context.fields).toEqual([
      { path: 'amount', reason: expect.stringContaining('decimal string') },
      { path: 'currency', reason: 'required but missing' },
      { path: 'capturedAt', reason: expect.stringContaining('ISO-8601') },
    ]);
    expect((error as JunctionError).message).toMatch(
      /PaymentCaptured\.v1 does not match its schema: amount: .*; currency: required but missing; capturedAt/,
    );
    await publisher.flush();
    expect(await countRecords(contracts.admin, [topic])).toBe(before);
  });

  it('rejects a whole batch when one event is invalid, and sends none of it', async () => {
    const topic = topicOf(ORDER);
    const before = await countRecords(contracts.admin, [topic]);
    const error = await publisher
      .publishMany([
        { type: ORDER, data: sampleEvent(ORDER) },
        { type: ORDER, data: { ...sampleEvent(ORDER), lines: [{ sku: 'SKU-1', quantity: 'two', unitPrice: '1.00' }] } },
      ])
      .catch((e: unknown) => e as JunctionError);
    expect(error).toMatchObject({
      code: 'event.invalid',
      context: { index: 1, fields: [{ path: 'lines.0.quantity', reason: expect.any(String) }] },
    });
    await publisher.flush();
    expect(await countRecords(contracts.admin, [topic])).toBe(before);
  });

  it('refuses an unknown event type, and a missing key', async () => {
    await expect(publisher.publish('com.junction.orders.OrderShipped', {})).rejects.toMatchObject({ code: 'schema.unknown' });
    await expect(publisher.publish(ORDER, sampleEvent(ORDER), { key: '' })).rejects.toMatchObject({ code: 'event.invalid' });
  });
});

describe('schemas at run time', () => {
  it('does not register a schema the registry lacks unless told to, and says what to do', async () => {
    const own = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, register: false, partitions: 1 });
    const strict = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: own.catalog });
    const eager = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: schemaRegistryUrl },
      catalog: own.catalog,
      autoRegister: true,
    });
    try {
      const error = await strict.publish(ORDER, sampleEvent(ORDER)).catch((e: unknown) => e as JunctionError);
      expect(error).toMatchObject({ code: 'schema.unknown' });
      expect((error as Error).message).toContain('./junction schemas register');
      expect(await countRecords(own.admin, [eventContract(own.catalog, ORDER).topic])).toBe(0);
      const result = await eager.publish(ORDER, sampleEvent(ORDER));
      expect(result.offset).toBe('0');
    } finally {
      await strict.close();
      await eager.close();
      await own.cleanup();
    }
  });
});
