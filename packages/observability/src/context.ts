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

/** Log fields, or how to work them out when a line is logged (most handled records log nothing). */
type FieldSource = LogFields | (() => LogFields);

const fields = new AsyncLocalStorage<FieldSource>();

const resolve = (source: FieldSource): LogFields => (typeof source === 'function' ? source() : source);

/**
 * Runs `fn` with `more` added to the log fields of everything it logs, however deep and however
 * asynchronous. The subscriber runs each record's handling in one, so a handler's own log lines
 * carry the record's event and trace without being told. `more` may be a function: it is called
 * when a line is logged, not before, for fields that cost something to work out.
 */
export function withLogFields<T>(more: FieldSource, fn: () => T): T {
  const outer = fields.getStore();
  return fields.run(outer ? () => ({ ...resolve(outer), ...resolve(more) }) : more, fn);
}

/** The log fields here: those of {@link withLogFields}, with the active span's ids over them when tracing records. */
export function currentLogFields(): LogFields {
  const source = fields.getStore();
  const own = source === undefined ? undefined : resolve(source);
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return own ?? {};
  return { ...own, trace_id: span.traceId, span_id: span.spanId };
}

/** Char code → 1 for the lowercase hex digits W3C trace context allows. */
const HEX = new Uint8Array(128);
for (const digit of '0123456789abcdef') HEX[digit.charCodeAt(0)] = 1;

/** What `text[from, to)` is: -1 when not all lowercase hex, 0 when hex zeros, 1 when hex and not all zeros. */
function hexRun(text: string, from: number, to: number): -1 | 0 | 1 {
  let nonZero: 0 | 1 = 0;
  for (let i = from; i < to; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 128 || HEX[code] === 0) return -1;
    if (code !== 48) nonZero = 1;
  }
  return nonZero;
}

/**
 * The span context a W3C `traceparent` (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`)
 * names, marked remote; undefined when it is not a valid one (wrong shape, upper case, an
 * all-zero id). Read by hand rather than by a regular expression: it runs for every record consumed.
 */
export function parseTraceparent(traceparent: string | undefined): SpanContext | undefined {
  if (traceparent?.length !== 55 || !traceparent.startsWith('00-') || traceparent[35] !== '-' || traceparent[52] !== '-') return undefined;
  if (hexRun(traceparent, 3, 35) !== 1 || hexRun(traceparent, 36, 52) !== 1 || hexRun(traceparent, 53, 55) === -1) return undefined;
  return {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
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
