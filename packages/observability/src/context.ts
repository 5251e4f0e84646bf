import { AsyncLocalStorage } from 'node:async_hooks';
import { context, isSpanContextValid, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';

/** The fields every log line carries when they are known: where in a trace, and which event and conversation. */
export interface LogFields {
  trace_id?: string;
  span_id?: string;
  correlation_id?: string;
  event_id?: string;
  /** The HTTP request being answered (`x-request-id`). */
  request_id?: string;
}

const fields = new AsyncLocalStorage<LogFields>();

/**
 * Runs `fn` with `more` added to the log fields of everything it logs, however deep and however
 * asynchronous. The subscriber runs each record's handling in one, so a handler's own log lines
 * carry the record's event and trace without being told.
 */
export function withLogFields<T>(more: LogFields, fn: () => T): T {
  const outer = fields.getStore();
  return fields.run(outer ? { ...outer, ...more } : more, fn);
}

/** The log fields here: those of {@link withLogFields}, with the active span's ids over them when tracing records. */
export function currentLogFields(): LogFields {
  const own = fields.getStore();
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return own ?? {};
  return { ...own, trace_id: span.traceId, span_id: span.spanId };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context a W3C `traceparent` names, marked remote; undefined when it is not a valid one. */
export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return undefined;
  const span: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(span) ? span : undefined;
}

/** The W3C `traceparent` of a span context (its trace and span ids and the sampled flag). */
export function formatTraceparent(span: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** An OpenTelemetry context whose parent is the span a `traceparent` names (the root context when it names none). */
export function contextOfTraceparent(traceparent: string | undefined) {
  const span = parseTraceparent(traceparent);
  return span ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}

/** The `traceparent` of the active span, when there is a valid one. */
export function activeTraceparent(): string | undefined {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? formatTraceparent(span) : undefined;
}
