import { type LogFields, parseTraceparent, telemetry, withLogFields } from '@junction/observability';
import type { Span, SpanContext } from '@opentelemetry/api';
import { endSpan, startProcessSpan, tracingRegistered, withSpan } from '../tracing.ts';
import { type EventContext, type Middleware, type Outcome, RETRY_HEADERS } from './types.ts';

/** The topic a record was first published to: retry-topic deliveries count under their original topic. */
export function sourceTopic(ctx: EventContext): string {
  return ctx.record.headers[RETRY_HEADERS.originalTopic] ?? ctx.record.topic;
}

/** The record fullname of a record: decoded, or from its `ce_type` header, else `unknown` (a poison record). */
export function eventTypeOf(ctx: EventContext): string {
  if (ctx.event) return ctx.event.type;
  const ceType = ctx.record.headers.ce_type;
  return ceType ? ceType.replace(/\.v\d+$/, '') : 'unknown';
}

/**
 * Reports each handler attempt — its duration and whether it threw — to telemetry. It sits
 * inside in-place retries and the breaker, so every try counts once and refused calls not at all.
 */
export function attemptTelemetry(): Middleware {
  return (next) => {
    const measured = async (ctx: EventContext): Promise<void> => {
      const started = performance.now();
      let outcome: 'ok' | 'error' = 'error';
      try {
        await next(ctx);
        outcome = 'ok';
      } finally {
        telemetry.handlerAttempt.publish({
          group: ctx.group,
          topic: sourceTopic(ctx),
          eventType: eventTypeOf(ctx),
          outcome,
          attempt: ctx.attempt,
          durationMs: performance.now() - started,
        });
      }
    };
    // Unobserved, it is no layer at all: no promise of its own on the per-record path.
    return (ctx) => (telemetry.handlerAttempt.hasSubscribers ? measured(ctx) : next(ctx));
  };
}

/** Reports what became of a record the subscriber is done with. */
export function reportFinished(ctx: EventContext, outcome: Outcome): void {
  if (!telemetry.recordFinished.hasSubscribers) return;
  telemetry.recordFinished.publish({ group: ctx.group, topic: sourceTopic(ctx), eventType: eventTypeOf(ctx), outcome });
}

/** The log fields of a record's handling: its event, its conversation and the trace its `traceparent` names. */
function recordLogFields(headers: Readonly<Record<string, string>>, trace: SpanContext | undefined): LogFields {
  return {
    event_id: headers.ce_id,
    correlation_id: headers['correlation-id'],
    ...(trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {}),
  };
}

/**
 * Runs a record's handling inside its `process` span (a child of the span its `traceparent`
 * names, when tracing records) and with its log fields, so that everything the handler logs and
 * publishes carries the record's event, conversation and trace. The span ends with the outcome.
 * Without a tracing SDK there is no span, and the fields are worked out only if a line is logged:
 * this runs for every record.
 */
export function observed<T>(ctx: EventContext, handle: () => Promise<T>): Promise<T> {
  const { headers } = ctx.record;
  if (!tracingRegistered()) return withLogFields(() => recordLogFields(headers, parseTraceparent(headers.traceparent)), handle);
  const parent = parseTraceparent(headers.traceparent);
  const span = startProcessSpan(ctx.group, ctx.record, parent);
  const fields = recordLogFields(headers, parent);
  if (!span) return withLogFields(fields, handle);
  return traced(ctx, span, () => withLogFields(fields, () => withSpan(span, handle)));
}

async function traced<T>(ctx: EventContext, span: Span, handle: () => Promise<T>): Promise<T> {
  try {
    return await handle();
  } finally {
    span.setAttribute('junction.outcome', ctx.outcome ?? 'ok');
    endSpan(span, ctx.outcome === 'dead-lettered' ? new Error('dead-lettered') : undefined);
  }
}
