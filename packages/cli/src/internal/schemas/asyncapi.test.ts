import { join } from 'node:path';
import { loadCatalog } from '@junction/events';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repositoryRoot } from '../paths.ts';
import { AVRO_PAYLOAD_FORMAT, generateAsyncApi } from './asyncapi.ts';
import { validateAsyncApi } from './avro-schema-parser.ts';

const catalog = await loadCatalog(join(repositoryRoot(), 'schemas'));

interface Doc {
  channels: Record<string, { address: string; bindings: { kafka: Record<string, unknown> }; messages: Record<string, unknown> }>;
  operations: Record<string, { action: string; channel: { $ref: string }; messages: Array<{ $ref: string }> }>;
  components: { messages: Record<string, Record<string, unknown>> };
}

describe('generateAsyncApi', () => {
  const text = generateAsyncApi(catalog);
  const doc = parse(text) as Doc;

  it('parses with @asyncapi/parser (and Avro payloads checked) without an error', async () => {
    const problems = await validateAsyncApi(text);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('is deterministic', () => {
    expect(generateAsyncApi(catalog)).toBe(text);
  });

  it('has a channel per topic with its Kafka settings', () => {
    expect(doc.channels.ordersOrder?.address).toBe('orders.order');
    expect(doc.channels.ordersOrder?.bindings.kafka).toEqual({
      topic: 'orders.order',
      partitions: 6,
      topicConfiguration: { 'retention.ms': 2_592_000_000, 'cleanup.policy': ['delete'] },
      bindingVersion: '0.5.0',
    });
    expect(Object.keys(doc.channels.ordersOrder?.messages ?? {})).toEqual(['OrderPlacedV1', 'OrderPlacedV2', 'OrderCancelledV1']);
  });

  it('has a message per event version with Avro payload, CloudEvents headers and the key', () => {
    const message = doc.components.messages.OrderPlacedV2 as {
      name: string;
      payload: { schemaFormat: string; schema: { name: string } };
      headers: { properties: Record<string, Record<string, unknown>>; required: string[] };
      bindings: { kafka: { key: { type: string; description: string } } };
    };
    expect(message.name).toBe('com.junction.orders.OrderPlaced.v2');
    expect(message.payload.schemaFormat).toBe(AVRO_PAYLOAD_FORMAT);
    expect(message.payload.schema.name).toBe('OrderPlaced');
    expect(message.headers.properties.ce_type).toMatchObject({ const: 'com.junction.orders.OrderPlaced.v2' });
    expect(message.headers.properties.ce_id).toMatchObject({ format: 'uuid' });
    expect(Object.keys(message.headers.properties)).toEqual(
      expect.arrayContaining([
        'ce_specversion',
        'ce_source',
        'ce_time',
        'ce_subject',
        'content-type',
        'traceparent',
        'tracestate',
        'correlation-id',
        'causation-id',
      ]),
    );
    expect(message.bindings.kafka.key.type).toBe('string');
    expect(message.bindings.kafka.key.description).toContain('orderId');
  });

  it('has a send operation for the owner and a receive operation per subscriber', () => {
    expect(doc.operations.ordersPublishesOrdersOrder).toMatchObject({ action: 'send', channel: { $ref: '#/channels/ordersOrder' } });
    expect(doc.operations.ordersPublishesOrdersOrder?.messages).toContainEqual({ $ref: '#/channels/ordersOrder/messages/OrderPlacedV1' });
    expect(doc.operations.billingReceivesOrdersOrder).toMatchObject({ action: 'receive' });
    expect(Object.keys(doc.operations).filter((name) => name.endsWith('NotificationsDelivery'))).toEqual([
      'notificationsPublishesNotificationsDelivery',
    ]);
  });

  it('reports a broken document with the path of each problem', async () => {
    // An unknown type name passes the spec's Avro JSON Schema; only a real Avro parser finds it.
    const broken = text
      .replace(
        '- name: customerEmail\n              type: string',
        '- name: customerEmail\n              type: com.junction.orders.Nowhere',
      )
      .replace('$ref: "#/channels/ordersOrder"', '$ref: "#/channels/nowhere"');
    expect(broken).toContain('type: com.junction.orders.Nowhere');
    const errors = (await validateAsyncApi(broken)).filter((p) => p.severity === 'error');
    expect(errors).toContainEqual(
      expect.objectContaining({
        path: 'components.messages.OrderPlacedV1.payload.schema',
        message: expect.stringContaining('not a valid Avro schema'),
      }),
    );
    expect(errors.map((e) => e.path)).toContainEqual(expect.stringMatching(/^operations\.ordersPublishesOrdersOrder\.channel/));
  });
});
