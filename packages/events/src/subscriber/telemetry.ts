import { parseTraceparent, telemetry, withLogFields } from '@junction/observability';
import { endSpan, startProcessSpan, withSpan } from '../tracing.ts';
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
  return (next) => async (ctx) => {
    if (!telemetry.handlerAttempt.hasSubscribers) return next(ctx);
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
}

/** Reports what became of a record the subscriber is done with. */
export function reportFinished(ctx: EventContext, outcome: Outcome): void {
  if (!telemetry.recordFinished.hasSubscribers) return;
  telemetry.recordFinished.publish({ group: ctx.group, topic: sourceTopic(ctx), eventType: eventTypeOf(ctx), outcome });
}

/**
 * Runs a record's handling inside its `process` span (a child of the span its `traceparent`
 * names, when tracing records) and with its log fields, so that everything the handler logs and
 * publishes carries the record's event, conversation and trace. The span ends with the outcome.
 */
export async function observed<T>(ctx: EventContext, handle: () => Promise<T>): Promise<T> {
  const { record } = ctx;
  const trace = parseTraceparent(record.headers.traceparent);
  const fields = {
    event_id: record.headers.ce_id,
    correlation_id: record.headers['correlation-id'],
    ...(trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {}),
  };
  const span = startProcessSpan(ctx.group, record);
  try {
    return await withLogFields(fields, () => withSpan(span, handle));
  } finally {
    span?.setAttribute('junction.outcome', ctx.outcome ?? 'ok');
    endSpan(span, ctx.outcome === 'dead-lettered' ? new Error('dead-lettered') : undefined);
  }
}
