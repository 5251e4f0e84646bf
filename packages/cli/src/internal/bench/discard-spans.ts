import type { TracingOptions } from '@junction/observability';

/** A span processor, as `startTracing` takes them. */
type SpanProcessor = NonNullable<TracingOptions['spanProcessors']>[number];
type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

/** OpenTelemetry's BatchSpanProcessor defaults (OTEL_BSP_*). */
const BATCH = 512;
const QUEUE = 2048;
const DELAY_MS = 5000;
const SAMPLED = 1;

/** A span processor that drops what it was given, and counts it. */
export interface DiscardingProcessor extends SpanProcessor {
  /** Spans handed to the (discarding) export so far. */
  readonly exported: number;
  /** Spans dropped because the queue was full, as the batch processor would. */
  readonly dropped: number;
}

/**
 * Queues ended spans the way the SDK's BatchSpanProcessor does by default — sampled ones only,
 * 512 a batch, at most 2048 waiting, a batch at least every 5 s — and throws each batch away:
 * span creation, attributes, context switching and batching are paid for, the exporter's
 * serialisation and network are not. (Written here so that the CLI needs no dependency on
 * `@opentelemetry/sdk-trace` for its batch processor.)
 */
export function discardingBatchProcessor(): DiscardingProcessor {
  let queue: EndedSpan[] = [];
  let exported = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    exported += queue.length;
    queue = [];
  };
  return {
    get exported() {
      return exported;
    },
    get dropped() {
      return dropped;
    },
    onStart() {},
    onEnd(span) {
      if (closed || (span.spanContext().traceFlags & SAMPLED) === 0) return;
      if (queue.length >= QUEUE) {
        dropped += 1;
        return;
      }
      queue.push(span);
      if (queue.length >= BATCH) flush();
      else if (!timer) {
        timer = setTimeout(flush, DELAY_MS);
        timer.unref();
      }
    },
    async forceFlush() {
      flush();
    },
    async shutdown() {
      flush();
      closed = true;
    },
  };
}
