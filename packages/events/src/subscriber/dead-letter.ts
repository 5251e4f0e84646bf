import { createHash } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { DLQ_HEADERS, deadLetterTopic, type EventContext, type Middleware, RETRY_HEADERS, type RecordSink } from './types.ts';

/** Options of {@link deadLetter}. */
export interface DeadLetterOptions {
  /** Writes to `<group>.<topic>.dlq`; must resolve only once Kafka acknowledged the record. */
  sink: RecordSink;
  /** Characters of the stack kept in `junction.dlq.error-stack`. Default 4000. */
  maxStackChars?: number;
  /** Called after a record was dead-lettered, with the error that sent it there. */
  onDeadLetter?: (ctx: EventContext, error: JunctionError) => void;
}

const DLQ_PREFIX = 'junction.dlq.';
const RETRY_PREFIX = 'junction.retry.';

/**
 * Sends a record that failed for good to its group's dead-letter topic, with its story in headers
 * (where it came from, what failed, how often, since when), and reports it handled so the
 * subscriber moves on. Key, value and original headers are kept as they were.
 *
 * "For good" is every error that reaches this middleware: non-retriable ones at once, retriable
 * ones once the retries inside it gave up. When the dead-letter write itself fails, both errors
 * surface together (an `AggregateError`) and the record is not done: its offset is not committed.
 */
export function deadLetter(options: DeadLetterOptions): Middleware {
  const maxStack = options.maxStackChars ?? 4000;
  /** Writes a record that failed for good to its dead-letter topic. */
  const setAside = async (ctx: EventContext, thrown: unknown): Promise<void> => {
    const error = JunctionError.from(thrown);
    const { record } = ctx;
    // A record that came through retry topics is dead-lettered under its original coordinates.
    const originalTopic = record.headers[RETRY_HEADERS.originalTopic] ?? record.topic;
    const now = new Date().toISOString();
    const kept = Object.fromEntries(
      Object.entries(record.headers).filter(([name]) => !name.startsWith(DLQ_PREFIX) && !name.startsWith(RETRY_PREFIX)),
    );
    const headers: Record<string, string> = {
      ...kept,
      [DLQ_HEADERS.originalTopic]: originalTopic,
      [DLQ_HEADERS.originalPartition]: record.headers[RETRY_HEADERS.originalPartition] ?? String(record.partition),
      [DLQ_HEADERS.originalOffset]: record.headers[RETRY_HEADERS.originalOffset] ?? record.offset,
      [DLQ_HEADERS.originalTimestamp]: new Date(record.timestamp).toISOString(),
      [DLQ_HEADERS.group]: ctx.group,
      [DLQ_HEADERS.errorCode]: error.code,
      [DLQ_HEADERS.errorMessage]: error.message.slice(0, 1000),
      [DLQ_HEADERS.errorStack]: (error.stack ?? '').slice(0, maxStack),
      [DLQ_HEADERS.attempts]: String(ctx.attempt),
      [DLQ_HEADERS.firstFailure]: record.headers[RETRY_HEADERS.firstFailure] ?? now,
      [DLQ_HEADERS.lastFailure]: now,
      [DLQ_HEADERS.fingerprint]: fingerprint(originalTopic, error),
    };
    try {
      await options.sink(deadLetterTopic(ctx.group, originalTopic), { key: record.key, value: record.value, headers });
    } catch (sinkError) {
      throw new AggregateError(
        [error, sinkError],
        `could not dead-letter ${record.topic}/${record.partition}@${record.offset}: ${String((sinkError as Error)?.message ?? sinkError)}`,
      );
    }
    ctx.outcome = 'dead-lettered';
    options.onDeadLetter?.(ctx, error);
  };
  // The failure path is a function of its own: an async function's frame is as large as all its
  // locals, and this one is made for every record, failed or not.
  return (next) => async (ctx) => {
    try {
      await next(ctx);
    } catch (thrown) {
      await setAside(ctx, thrown);
    }
  };
}

/** Groups failures of one kind: the topic, the error code and the message without numbers and ids. */
function fingerprint(topic: string, error: JunctionError): string {
  const shape = error.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '<id>').replace(/\d+/g, '<n>');
  return createHash('sha256').update(`${topic}\n${error.code}\n${shape}`).digest('hex').slice(0, 16);
}
