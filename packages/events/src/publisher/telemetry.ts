import { JunctionError, type PublishSettled, telemetry } from '@junction/observability';
import type { Span } from '@opentelemetry/api';
import type { Catalog } from '../contracts/catalog.ts';
import { endSpan, startSendSpan } from '../tracing.ts';
import type { PreparedEvent, PublishOptions } from './prepare.ts';

/** How a failed publish is counted: refused (backpressure), invalid (the caller's event), or failed (Kafka, the registry, a timeout). */
export function failedOutcome(error: unknown): PublishSettled['outcome'] {
  if (!(error instanceof JunctionError)) return 'failed';
  if (error.code === 'publisher.backpressure') return 'refused';
  if (error.code === 'event.invalid' || error.code === 'schema.unknown' || error.code === 'topic.unknown') return 'invalid';
  return 'failed';
}

/** Counts events that failed before they were prepared (validation); they have no topic until their type is known. */
export function reportUnprepared(catalog: Catalog, types: readonly string[], started: number, error: unknown): void {
  if (!telemetry.publishSettled.hasSubscribers) return;
  const durationMs = performance.now() - started;
  for (const type of types) {
    const topic = catalog.events.find((event) => event.type === type)?.topic ?? 'unknown';
    telemetry.publishSettled.publish({ topic, eventType: type, outcome: failedOutcome(error), durationMs });
  }
}

/** Starts a `send` span per event (undefined entries when tracing does not record), parented on the explicit or causing trace. */
export function startSendSpans(
  events: readonly PreparedEvent[],
  options: readonly (PublishOptions | undefined)[],
): (Span | undefined)[] | undefined {
  let spans: (Span | undefined)[] | undefined;
  events.forEach((event, i) => {
    const choice = options[i];
    const span = startSendSpan(event.topic, event.headers, choice?.traceparent ?? choice?.causedBy?.traceparent);
    if (span) {
      spans ??= [];
      spans[i] = span;
    }
  });
  return spans;
}

/**
 * Reports how a publish call's events settled to telemetry and ends their spans. With nothing
 * listening and no spans it returns `sent` untouched, so an unobserved publisher pays nothing.
 */
export function observeSettled<T>(
  events: readonly PreparedEvent[],
  spans: (Span | undefined)[] | undefined,
  started: number,
  sent: Promise<T>,
): Promise<T> {
  if (!spans && !telemetry.publishSettled.hasSubscribers) return sent;
  const settle = (error?: unknown) => {
    const durationMs = performance.now() - started;
    const outcome = error === undefined ? 'ok' : failedOutcome(error);
    events.forEach((event, i) => {
      endSpan(spans?.[i], error);
      if (telemetry.publishSettled.hasSubscribers)
        telemetry.publishSettled.publish({ topic: event.topic, eventType: event.type, outcome, durationMs });
    });
  };
  return sent.then(
    (value) => {
      settle();
      return value;
    },
    (error: unknown) => {
      settle(error);
      throw error;
    },
  );
}
