import type { RecordFinished } from '@junction/observability';
import type { Queryable } from '../outbox/database.ts';

/** A Kafka record as the subscriber received it, before anything is decoded. */
export interface InboundRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  /** Record headers as strings (UTF-8). */
  headers: Record<string, string>;
  /** Milliseconds since the epoch (the record's timestamp). */
  timestamp: number;
}

/** The event a record carries, once the decode middleware has read it. */
export interface DecodedEvent<T = unknown> {
  /** `ce_id`. */
  id: string;
  /** The record fullname, e.g. `com.junction.orders.OrderPlaced`. */
  type: string;
  /** The writer's version, from `ce_type` (`…OrderPlaced.v2` → 2). */
  version: number;
  /** The writer's schema id in the registry. */
  schemaId: number;
  /** The data, read with the writer schema and resolved to the subscriber's reader schema. */
  data: T;
}

/**
 * What a handler and every middleware see of one record. Middlewares add to it as it passes:
 * decode sets `event`, timeout sets `signal`, idempotency sets `tx` when its store is a database.
 */
export interface EventContext<T = unknown> {
  /** The consumer group (the subscribing service). */
  group: string;
  record: InboundRecord;
  /** Set by the decode middleware; handlers always have it. */
  event?: DecodedEvent<T>;
  /** 1 on the first delivery; counts deliveries through retry topics and in-place retries. */
  attempt: number;
  /** Aborted when the handler should stop (its timeout passed, or the subscriber is shutting down). */
  signal: AbortSignal;
  /**
   * The transaction of the idempotency store, when it is PostgreSQL/PGlite: a handler that writes
   * its effects with it commits them together with the inbox row, so an effect happens exactly once.
   */
  tx?: Queryable;
  /**
   * Runs `effect` once the handler's work is done for good: after the inbox transaction holding
   * its writes committed (or after it returned, without a database inbox). An attempt that fails
   * drops the effects it asked for, and a duplicate never runs the handler: what happens outside
   * the database (a KPI, say) happens once per effect committed. Set by the subscriber's
   * `afterCommit` middleware; an effect that throws is logged, never fails the record.
   */
  afterCommit?: (effect: () => void) => void;
  /**
   * Set by the circuit breaker when it refused the call because the dependency is down: the
   * record was not handled, and the subscriber runs it again after `retryAfterMs` (fetching is
   * paused meanwhile). To the middlewares outside the breaker the call returned: none of them
   * spends a retry or a dead letter on a record that was never tried.
   */
  deferred?: { retryAfterMs: number };
  /**
   * What became of the record, set by the middleware that decided it: `retried` (sent to a retry
   * topic), `dead-lettered`, `deduplicated`, `skipped` (no handler for its type). Unset means `ok`: handled.
   */
  outcome?: Outcome;
}

/** What became of a record, for metrics and the demo's live line. */
export type Outcome = RecordFinished['outcome'];

/** Writes one record to a topic and resolves once Kafka acknowledged it (acks=all); used for retry and dead-letter topics. */
export type RecordSink = (
  topic: string,
  record: { key: string | null; value: Buffer | null; headers: Record<string, string> },
) => Promise<void>;

/** Handles one record; resolves when it is done, throws (a JunctionError, ideally) when it failed. */
export type Handler<T = unknown> = (context: EventContext<T>) => Promise<void>;

/** One concern wrapped around a handler: `(next) => handler`. */
export type Middleware = (next: Handler) => Handler;

/** Composes middlewares into one handler; the first middleware is the outermost. */
export function chain(middlewares: readonly Middleware[], handler: Handler): Handler {
  return middlewares.reduceRight<Handler>((next, middleware) => middleware(next), handler);
}

/** The `<group>.<topic>.retry.<n>` topic, the n-th (from 1) retry stage of a group's subscription. */
export function retryTopic(group: string, topic: string, stage: number): string {
  return `${group}.${topic}.retry.${stage}`;
}

/** The `<group>.<topic>.dlq` topic: what a group gave up on, for people to look at and replay. */
export function deadLetterTopic(group: string, topic: string): string {
  return `${group}.${topic}.dlq`;
}

/**
 * Dead-letter headers (strings), per DESIGN.md. The record's key, value and original headers are
 * kept as they were; these are added.
 */
export const DLQ_HEADERS = {
  originalTopic: 'junction.dlq.original-topic',
  originalPartition: 'junction.dlq.original-partition',
  originalOffset: 'junction.dlq.original-offset',
  originalTimestamp: 'junction.dlq.original-timestamp',
  group: 'junction.dlq.group',
  errorCode: 'junction.dlq.error-code',
  errorMessage: 'junction.dlq.error-message',
  errorStack: 'junction.dlq.error-stack',
  attempts: 'junction.dlq.attempts',
  firstFailure: 'junction.dlq.first-failure',
  lastFailure: 'junction.dlq.last-failure',
  fingerprint: 'junction.dlq.fingerprint',
} as const;

/** Headers of records in retry topics. */
export const RETRY_HEADERS = {
  /** The topic the record was first consumed from. */
  originalTopic: 'junction.retry.original-topic',
  originalPartition: 'junction.retry.original-partition',
  originalOffset: 'junction.retry.original-offset',
  /** Deliveries so far, failed ones included. */
  attempts: 'junction.retry.attempts',
  /** Milliseconds since the epoch before which the retry consumer must not hand the record on. */
  dueAt: 'junction.retry.due-at',
  firstFailure: 'junction.retry.first-failure',
  lastError: 'junction.retry.last-error-code',
} as const;

/** Header counting how often a record was replayed from a DLQ; replay refuses past a limit (a loop guard). */
export const REPLAY_COUNT_HEADER = 'junction.replay.count';
