import type { Cause, EventContext } from '@junction/events';

/**
 * The cause of an event a handler emits: the event it handles, so the new one carries the same
 * correlation id, a `causation-id` naming it, and a child of its trace.
 */
export function causeOf(ctx: EventContext): Cause {
  const headers = ctx.record.headers;
  return {
    id: ctx.event?.id ?? headers.ce_id ?? '',
    ...(headers['correlation-id'] ? { correlationId: headers['correlation-id'] } : {}),
    ...(headers.traceparent ? { traceparent: headers.traceparent } : {}),
    ...(headers.tracestate ? { tracestate: headers.tracestate } : {}),
  };
}
