import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import type { InboundRecord } from './subscriber/types.ts';
import { startProcessSpan, startSendSpan, tracingRegistered } from './tracing.ts';

const record: InboundRecord = {
  topic: 'orders.order',
  partition: 1,
  offset: '7',
  key: 'o-1',
  value: null,
  headers: { ce_id: 'e-1' },
  timestamp: 0,
};
const parent = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true };

describe('spans with and without a tracing SDK', () => {
  // Not disabled between tests: the module's tracer is the API's proxy of the moment, which a
  // disable replaces (a process does not unregister its SDK midway).
  afterAll(() => {
    trace.disable();
  });

  it('makes no span and leaves the headers alone while no SDK is registered', () => {
    expect(tracingRegistered()).toBe(false);
    const headers: Record<string, string> = { ce_id: 'e-1', traceparent: 'given' };
    expect(startSendSpan('orders.order', headers)).toBeUndefined();
    expect(headers.traceparent).toBe('given');
    expect(startProcessSpan('billing', record, parent)).toBeUndefined();
  });

  it('records spans once an SDK is registered, a process span the child of the record’s parent', () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    expect(tracingRegistered()).toBe(true);
    const headers: Record<string, string> = { ce_id: 'e-1' };
    startSendSpan('orders.order', headers)?.end();
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    startProcessSpan('billing', record, parent)?.end();
    const [send, process] = exporter.getFinishedSpans();
    expect(send?.name).toBe('send orders.order');
    expect(process?.name).toBe('process orders.order');
    expect(process?.spanContext().traceId).toBe(parent.traceId);
    expect(process?.parentSpanContext?.spanId).toBe(parent.spanId);
    trace.disable();
    expect(tracingRegistered()).toBe(false);
  });
});
