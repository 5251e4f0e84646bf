import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createLogger, createMetrics, JunctionError, type Metrics, startTracing, type Tracing } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventContract } from './contracts/catalog.ts';
import { createPublisher, type Publisher } from './publisher/publisher.ts';
import { createSubscriber } from './subscriber/subscriber.ts';
import type { Subscriber } from './subscriber/subscriber-options.ts';
import { deadLetterTopic, type EventContext, retryTopic } from './subscriber/types.ts';
import { type PrivateContracts, privateContracts, until } from './testing/contracts.ts';
import { sampleEvent } from './testing/samples.ts';

// One flow against the real broker and registry, watched the way an SRE would: metrics scraped
// from the registry, spans from the tracer, log lines from the logger.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const ORDER = 'com.junction.orders.OrderPlaced';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let metrics: Metrics;
let contracts: PrivateContracts;
let publisher: Publisher;
let subscriber: Subscriber;
const logLines: Record<string, unknown>[] = [];
const group = `telemetry-${randomBytes(4).toString('hex')}`;
const failing = randomUUID();
const good = Array.from({ length: 4 }, () => randomUUID());
let topic: string;
let requestTraceId: string;

/** The value of one series in Prometheus text, whatever the order of its labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

beforeAll(async () => {
  tracing = startTracing({ service: 'billing', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  metrics = createMetrics({ service: 'billing', processMetrics: false });
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
  topic = eventContract(contracts.catalog, ORDER).topic;
  publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ service: 'billing', stream });
  subscriber = createSubscriber({
    group,
    kafka: { brokers },
    registry: { url: schemaRegistryUrl },
    catalog: contracts.catalog,
    retry: { delaysMs: [200], inPlace: { retries: 1, backoff: { initialMs: 10, multiplier: 1, maxMs: 10, jitter: 0 } } },
    handlers: {
      [ORDER]: async (ctx: EventContext) => {
        const orderId = (ctx.event?.data as { orderId: string } | undefined)?.orderId;
        logger.info('charging the order', { orderId });
        if (orderId === failing) throw new JunctionError('broker.unavailable', 'the payment provider is down (a stand-in for one)');
      },
    },
  });
  await subscriber.start();

  // What an HTTP request span would be: the publish happens inside it.
  await trace.getTracer('test').startActiveSpan('POST /v1/events', { kind: SpanKind.SERVER }, async (span) => {
    requestTraceId = span.spanContext().traceId;
    await publisher.publish(ORDER, sampleEvent(ORDER, failing));
    span.end();
  });
  for (const orderId of good) await publisher.publish(ORDER, sampleEvent(ORDER, orderId));
  const raw = new Kafka({ clientId: 'poison', brokers, logLevel: logLevel.NOTHING }).producer();
  await raw.connect();
  await raw.send({ topic, messages: [{ key: 'poison', value: Buffer.from('not avro'), headers: { ce_id: 'poison-1' } }] });
  await raw.disconnect();
  await until(() => subscriber.stats.outcomes['dead-lettered'] === 2 && subscriber.stats.outcomes.ok === 4, 30_000, 'the flow to finish');
}, 120_000);

afterAll(async () => {
  await subscriber?.stop({ deadlineMs: 5000 });
  await publisher?.close();
  metrics?.close();
  await tracing?.shutdown();
  await contracts?.cleanup();
});

describe('telemetry of a publish → consume → retry → dead letter flow', () => {
  it('counts every outcome in the metrics', async () => {
    const text = await metrics.scrape();
    const consumed = (outcome: string, eventType = ORDER) =>
      sample(text, 'junction_events_consumed_total', { group, topic, event_type: eventType, outcome });
    expect(sample(text, 'junction_events_published_total', { topic, event_type: ORDER, outcome: 'ok' })).toBe(5);
    expect(sample(text, 'junction_publish_duration_seconds_count', { topic })).toBe(5);
    expect(consumed('ok')).toBe(4);
    // The failing event: once to the retry topic, then (retries spent) to the dead-letter topic.
    expect(consumed('retried')).toBe(1);
    expect(consumed('dead-lettered')).toBe(1);
    expect(consumed('dead-lettered', 'unknown')).toBe(1);
    expect(sample(text, 'junction_dlq_writes_total', { group, topic })).toBe(2);
    // Four attempts of the failing event (2 in place from the topic, 2 from the retry topic); 3 were retries.
    expect(sample(text, 'junction_handler_duration_seconds_count', { group, topic, event_type: ORDER, outcome: 'error' })).toBe(4);
    expect(sample(text, 'junction_retries_total', { group, topic })).toBe(3);
  });

  it('reports lag per partition, in records and seconds, and the dead-letter depth', async () => {
    await until(
      async () => sample(await metrics.scrape(), 'junction_dlq_depth', { group, topic: deadLetterTopic(group, topic) }) === 2,
      15_000,
      'the DLQ depth',
    );
    const text = await metrics.scrape();
    for (const partition of ['0', '1']) {
      expect(sample(text, 'junction_consumer_lag_records', { group, topic, partition })).toBe(0);
      expect(sample(text, 'junction_consumer_lag_seconds', { group, topic, partition })).toBe(0);
    }
    expect(sample(text, 'junction_consumer_in_flight_records', { group })).toBe(0);
    expect(sample(text, 'junction_rebalance_duration_seconds_count', { group })).toBeGreaterThanOrEqual(1);
  });

  it('shows the failing event as one trace: request → send → process → retry topic → process → dead-letter topic', async () => {
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === requestTraceId);
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const [request] = byName('POST /v1/events');
    const [send] = byName(`send ${topic}`);
    const [process] = byName(`process ${topic}`);
    const [toRetry] = byName(`send ${retryTopic(group, topic, 1)}`);
    const [retried] = byName(`process ${retryTopic(group, topic, 1)}`);
    const [toDlq] = byName(`send ${deadLetterTopic(group, topic)}`);
    for (const span of [request, send, process, toRetry, retried, toDlq]) expect(span).toBeDefined();
    expect(parentOf(send as ReadableSpan)).toBe(request?.spanContext().spanId);
    expect(parentOf(process as ReadableSpan)).toBe(send?.spanContext().spanId);
    expect(parentOf(toRetry as ReadableSpan)).toBe(process?.spanContext().spanId);
    expect(parentOf(retried as ReadableSpan)).toBe(toRetry?.spanContext().spanId);
    expect(parentOf(toDlq as ReadableSpan)).toBe(retried?.spanContext().spanId);
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.attributes['messaging.consumer.group.name']).toBe(group);
    expect(retried?.attributes['junction.outcome']).toBe('dead-lettered');
    // The good events are traces of their own, not part of this one.
    expect(spans.filter((span) => span.name === `process ${topic}`)).toHaveLength(1);
  });

  it('stamps the handler’s log lines with the event, its conversation and its trace, and redacts nothing it need not', () => {
    const line = logLines.find((l) => l.orderId === failing);
    expect(line).toBeDefined();
    expect(line?.trace_id).toBe(requestTraceId);
    expect(line?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line?.event_id).toBe('string');
    expect(line?.correlation_id).toBe(line?.event_id);
    expect(line?.service).toBe('billing');
  });
});
