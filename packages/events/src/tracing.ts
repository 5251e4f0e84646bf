import { contextOfTraceparent, formatTraceparent } from '@junction/observability';
import {
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { InboundRecord } from './subscriber/types.ts';

/**
 * Kafka spans, per OpenTelemetry's messaging conventions: `send <topic>` for each published
 * event and `process <topic>` for each record handled, linked through the record's W3C
 * `traceparent` header, so one trace runs from the HTTP request through every hop. Without a
 * tracing SDK the API hands out non-recording spans: nothing is recorded and headers keep the
 * trace context the publisher made.
 */
const tracer = trace.getTracer('@junction/events');

/** What the API's proxy provider delegates to while no SDK is registered: the API's no-op provider. */
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracing SDK is registered. Until one is, the API's provider is a proxy for its no-op
 * provider, whose spans never record: the per-event span work (attributes, parent contexts) is
 * skipped then, on paths that run for every event published and every record consumed. (A
 * registered SDK becomes the delegate of the global proxy.)
 */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_PROVIDER;
}

/**
 * Starts the producer span of one record to `topic`, as a child of `parent` (an explicit or
 * causing `traceparent`) or else of the active span, and writes its context into `headers`
 * (the record's, changed in place). Undefined when tracing does not record.
 */
export function startSendSpan(topic: string, headers: Record<string, string>, parent?: string): Span | undefined {
  if (!tracingRegistered()) return undefined;
  const span = tracer.startSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        ...(headers.ce_id ? { 'messaging.message.id': headers.ce_id } : {}),
        ...(headers.ce_subject ? { 'messaging.kafka.message.key': headers.ce_subject } : {}),
        ...(headers.ce_type ? { 'cloudevents.event_type': headers.ce_type } : {}),
      },
    },
    parent ? contextOfTraceparent(parent) : context.active(),
  );
  if (!span.isRecording()) return undefined;
  headers.traceparent = formatTraceparent(span.spanContext());
  return span;
}

/** Ends a span, marking it failed with `error` when there is one. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/**
 * Starts the consumer span of one record, a child of `parent`: the span its `traceparent` header
 * names, parsed by the caller. Undefined when tracing does not record.
 */
export function startProcessSpan(group: string, record: InboundRecord, parent: SpanContext | undefined): Span | undefined {
  if (!tracingRegistered()) return undefined;
  const span = tracer.startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.kafka.offset': Number(record.offset),
        'messaging.consumer.group.name': group,
        ...(record.headers.ce_id ? { 'messaging.message.id': record.headers.ce_id } : {}),
        ...(record.key !== null ? { 'messaging.kafka.message.key': record.key } : {}),
      },
    },
    parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
  );
  return span.isRecording() ? span : undefined;
}

/** Runs `fn` with `span` active (so what it publishes, logs and forwards is the span's child); as is without one. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}
