import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JunctionError } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createAvroCodec } from '../codec.ts';
import { eventContract, eventVersion } from '../contracts/catalog.ts';
import { decryptEventPii } from '../pii/event.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';
import { countRecords, expectKeyOrder, type PrivateContracts, privateContracts, readRecords, until } from '../testing/contracts.ts';
import { sampleEvent, sampleOrderPlacedV1 } from '../testing/samples.ts';
import { createPublisher, type Publisher } from './publisher.ts';

// Against the real broker and registry of the test stack; each test file has its own topics.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const codec = createAvroCodec({ registryUrl: schemaRegistryUrl });
const ORDER = 'com.junction.orders.OrderPlaced';
const CANCELLED = 'com.junction.orders.OrderCancelled';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// The test run's key (test/setup/stack.global.ts): personal fields are on the topic encrypted.
const pii = piiKeyringFromEnv() as PiiKeyring;

/** A record's value decoded with `reader`, its personal fields decrypted. */
async function decodeClear(record: { value: Buffer | null; headers: Record<string, string | undefined> }, reader: Record<string, unknown>) {
  const type = record.headers.ce_type?.replace(/\.v\d+$/, '') as string;
  const decoded = await codec.decode(record.value as Buffer, reader);
  return decryptEventPii(reader, { type, id: record.headers.ce_id as string }, decoded.value, pii);
}

let contracts: PrivateContracts;
let publisher: Publisher;
let shared: Publisher;
const topicOf = (type: string) => eventContract(contracts.catalog, type).topic;

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl });
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
  shared = publisher;
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
      expect(await decodeClear(record, eventVersion(contract).schema)).toEqual(data);
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
    expect(await decodeClear(v1Record as NonNullable<typeof v1Record>, v2 as Record<string, unknown>)).toEqual({
      ...oldEvent,
      couponCode: null,
    });
    expect(await decodeClear(v2Record as NonNullable<typeof v2Record>, v1 as Record<string, unknown>)).toEqual(withoutCoupon(newEvent));
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

describe('order and batching', () => {
  it.each([1, 3])(
    'keeps per-key order across 10,000 events on 6 partitions, sent in far fewer requests, %d in flight',
    async (inFlight) => {
      const topic = topicOf(CANCELLED);
      const keys: string[] = Array.from({ length: 60 }, () => randomUUID());
      const publisher =
        inFlight === 1
          ? shared
          : createPublisher({
              service: 'orders',
              kafka: { brokers },
              registry: { url: schemaRegistryUrl },
              catalog: contracts.catalog,
              maxInFlightRequests: inFlight,
            });
      onTestFinished(() => (publisher === shared ? undefined : publisher.close()));
      const requestsBefore = publisher.stats.requests;
      // All at once, as a busy service would: the publisher batches them and keeps each key's order.
      const results = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) =>
          publisher.publish(CANCELLED, sampleEvent(CANCELLED, keys[i % keys.length]), { headers: { 'x-seq': String(i) } }),
        ),
      );
      const requests = publisher.stats.requests - requestsBefore;
      expect(requests).toBeLessThan(1000);
      // Each lane sends its own requests: at least one apiece.
      expect(requests).toBeGreaterThanOrEqual(inFlight);
      expect(new Set(results.map((r) => r.partition)).size).toBe(6);

      const records = (await readAll(topic)).filter((r) => keys.includes(r.key));
      expect(records).toHaveLength(10_000);
      expectKeyOrder(records);
      // Each event is where the publisher said Kafka put it.
      const reported = new Map(results.map((r) => [r.id, `${r.partition}/${r.offset}`]));
      for (const record of records) expect(reported.get(record.headers.ce_id as string)).toBe(`${record.partition}/${record.offset}`);
    },
  );
});

/** A stand-in for the registry's network path that can be cut: requests go through to the real registry until `cut()`. */
async function cuttableRegistry(target: string): Promise<{ url: string; cut(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await fetch(`${target}${request.url?.replace(/^\/apis\/ccompat\/v7/, '') ?? ''}`, {
      method: request.method ?? 'GET',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      signal: AbortSignal.timeout(5000),
    });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/apis/ccompat/v7`,
    cut: () =>
      new Promise((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
  };
}

describe('when the registry is down', () => {
  it('fails with a clear, retriable error after bounded retries, and publishes no part of a batch', async () => {
    const registry = await cuttableRegistry(schemaRegistryUrl);
    const cutOff = createPublisher({
      service: 'orders',
      kafka: { brokers },
      registry: { url: registry.url },
      catalog: contracts.catalog,
      retry: { retries: 2, initialMs: 20, maxMs: 100 },
    });
    try {
      const orderId = randomUUID();
      // OrderPlaced's schema id is known before the cut; OrderCancelled's is not.
      await cutOff.publish(ORDER, sampleEvent(ORDER, orderId));
      await registry.cut();
      const topic = topicOf(ORDER);
      const before = await countRecords(contracts.admin, [topic]);
      const started = Date.now();
      const error = await cutOff
        .publishMany([
          { type: ORDER, data: sampleEvent(ORDER, orderId) },
          { type: CANCELLED, data: sampleEvent(CANCELLED, orderId) },
        ])
        .catch((e: unknown) => e as JunctionError);
      expect(error).toMatchObject({ code: 'registry.unavailable', retriable: true });
      expect((error as Error).message).toMatch(new RegExp(`schema registry at ${registry.url} does not answer.*after 3 attempts`));
      expect(Date.now() - started).toBeLessThan(5000);
      await cutOff.flush();
      expect(await countRecords(contracts.admin, [topic])).toBe(before);
      // Events whose schema ids are known still go out: the registry is needed only once per schema.
      await expect(cutOff.publish(ORDER, sampleEvent(ORDER, orderId))).resolves.toMatchObject({ topic });
    } finally {
      await cutOff.close();
    }
  });
});

describe('when Kafka is unreachable', () => {
  it('fails with broker.unavailable after bounded retries and reports nothing as published', async () => {
    const nowhere = createPublisher({
      service: 'orders',
      kafka: { brokers: ['127.0.0.1:1'] },
      registry: { url: schemaRegistryUrl },
      catalog: contracts.catalog,
      retry: { retries: 2, initialMs: 20, maxMs: 100 },
    });
    try {
      const error = await nowhere.publish(ORDER, sampleEvent(ORDER)).catch((e: unknown) => e as JunctionError);
      expect(error).toMatchObject({ code: 'broker.unavailable', retriable: true });
      expect((error as Error).message).toContain('cannot reach Kafka at 127.0.0.1:1');
      expect(nowhere.stats).toMatchObject({ inFlightBytes: 0, waitingBytes: 0, requests: 0 });
    } finally {
      await nowhere.close();
    }
  });
});

describe('a request Kafka refuses', () => {
  it('fails the events queued behind it too, unsent, so no later event of a key overtakes it', async () => {
    const topic = topicOf(CANCELLED);
    // Records more than an hour old are refused (INVALID_TIMESTAMP): a failure of one request only.
    await contracts.admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'message.timestamp.before.max.ms', value: '3600000' }] },
      ],
    });
    // The broker applies a config change from the metadata log a moment later: wait until it says
    // so, or the stale event may still be accepted (seen once in CI).
    await until(
      async () => {
        const described = await contracts.admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['message.timestamp.before.max.ms'] }],
        });
        return described.resources[0]?.configEntries[0]?.configValue === '3600000';
      },
      10_000,
      'the broker to apply message.timestamp.before.max.ms',
    );
    const key = randomUUID();
    const before = await countRecords(contracts.admin, [topic]);
    const requests = publisher.stats.requests;
    const stale = publisher.publish(CANCELLED, sampleEvent(CANCELLED, key), { time: new Date(Date.now() - 2 * 86_400_000) });
    // Once the stale event's request has left, the next events queue behind it.
    while (publisher.stats.requests === requests) await new Promise((turn) => setImmediate(turn));
    const behind = [publisher.publish(CANCELLED, sampleEvent(CANCELLED, key)), publisher.publish(CANCELLED, sampleEvent(CANCELLED))];
    const [first, ...rest] = await Promise.allSettled([stale, ...behind]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'event.invalid', retriable: false } });
    expect(first?.status === 'rejected' && (first.reason as Error).message).toContain('INVALID_TIMESTAMP');
    for (const queued of rest) {
      expect(queued).toMatchObject({
        status: 'rejected',
        reason: { retriable: true, message: expect.stringContaining('not sent: an earlier request to Kafka failed') },
      });
    }
    expect(await countRecords(contracts.admin, [topic])).toBe(before);
    // The publisher goes on with a fresh producer.
    await expect(publisher.publish(CANCELLED, sampleEvent(CANCELLED, key))).resolves.toMatchObject({ key });
  });
});
