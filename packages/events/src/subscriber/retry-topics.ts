import { JunctionError } from '@junction/observability';
import { type EventContext, type Middleware, RETRY_HEADERS, type RecordSink, retryTopic } from './types.ts';

/** Options of {@link retryTopics}. */
export interface RetryTopicsOptions {
  /** Delay of each stage: `[1000, 10_000]` makes `<group>.<topic>.retry.1` (1 s) and `.retry.2` (10 s). */
  delaysMs: readonly number[];
  sink: RecordSink;
  /** Called after a record went to a retry topic. */
  onRetry?: (ctx: EventContext, stage: number, error: JunctionError) => void;
}

/** The retry stage a record is in: 0 when it came from its original topic. */
export function retryStage(topic: string, group: string): number {
  const match = new RegExp(`^${escapeRegExp(group)}\\.(.+)\\.retry\\.(\\d+)$`).exec(topic);
  return match ? Number(match[2]) : 0;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Non-blocking retries: a record that failed retriably is written to the next retry topic of its
 * group, due after that stage's delay, and counts as done here, so the records behind it go on.
 * That gives up order for the records it takes — a later event of the same key may be handled
 * first — so flows where order matters more than throughput use in-place retries only
 * (`retry: { mode: 'blocking' }`). Past the last stage, or for a non-retriable error, the error goes on (to the dead-letter middleware).
 */
export function retryTopics(options: RetryTopicsOptions): Middleware {
  /** Sends a failed record on to its next retry topic, or throws the error on when it has none. */
  const forward = async (ctx: EventContext, thrown: unknown): Promise<void> => {
    const error = JunctionError.from(thrown);
    const { record } = ctx;
    const stage = retryStage(record.topic, ctx.group) + 1;
    const delay = options.delaysMs[stage - 1];
    if (!error.retriable || delay === undefined) throw error;
    const originalTopic = record.headers[RETRY_HEADERS.originalTopic] ?? record.topic;
    const now = Date.now();
    await options.sink(retryTopic(ctx.group, originalTopic, stage), {
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        [RETRY_HEADERS.originalTopic]: originalTopic,
        [RETRY_HEADERS.originalPartition]: record.headers[RETRY_HEADERS.originalPartition] ?? String(record.partition),
        [RETRY_HEADERS.originalOffset]: record.headers[RETRY_HEADERS.originalOffset] ?? record.offset,
        [RETRY_HEADERS.attempts]: String(ctx.attempt),
        [RETRY_HEADERS.dueAt]: String(now + delay),
        [RETRY_HEADERS.firstFailure]: record.headers[RETRY_HEADERS.firstFailure] ?? new Date(now).toISOString(),
        [RETRY_HEADERS.lastError]: error.code,
      },
    });
    ctx.outcome = 'retried';
    options.onRetry?.(ctx, stage, error);
  };
  // The failure path is a function of its own: an async function's frame is as large as all its
  // locals, and this one is made for every record, failed or not.
  return (next) => async (ctx) => {
    try {
      await next(ctx);
    } catch (thrown) {
      await forward(ctx, thrown);
    }
  };
}
