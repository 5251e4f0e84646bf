import { telemetry } from '@junction/observability';
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
