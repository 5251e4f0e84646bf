import type { Logger } from '@junction/observability';
import type { BackoffOptions } from '../backoff.ts';
import type { AvroCodec } from '../codec.ts';
import type { Catalog } from '../contracts/catalog.ts';
import type { KafkaOption } from '../kafka-connection.ts';
import type { PiiKeyring } from '../pii/keyring.ts';
import type { CircuitBreakerOptions } from './circuit-breaker.ts';
import type { DeadLetterOptions } from './dead-letter.ts';
import type { IdempotencyOptions } from './idempotency.ts';
import type { EventContext, Handler, Middleware, Outcome } from './types.ts';

/** Options of `createSubscriber`. */
export interface SubscriberOptions<Events> {
  /** The consumer group: the subscribing service, e.g. `billing`. Retry and dead-letter topics are named after it. */
  group: string;
  /** A kafkajs client, or the connection (brokers, TLS, SASL; see `kafkaConnectionFromEnv`) to make one for. */
  kafka: KafkaOption;
  registry: { url: string } | AvroCodec;
  catalog: Catalog;
  /** A handler per event type (record fullname); types without one are skipped and counted. */
  handlers: { [T in keyof Events]?: Handler<Events[T]> };
  /** `partition` (default): one record at a time per partition. `key`: different keys at once, each key in order. */
  ordering?: 'partition' | 'key';
  /** Handlers running at once, at most (key ordering; partition ordering runs one per partition). Default 16. */
  maxConcurrency?: number;
  /**
   * Retries. In place first (`inPlace`, default 2 retries from 100 ms, for retriable errors only),
   * then through retry topics with `delaysMs` (default `[1000, 10_000]`), then the dead-letter
   * topic. Retry topics give up order for the records they take; `mode: 'blocking'` keeps order
   * instead: no retry topics, the partition (or key) waits while a record is retried in place.
   */
  retry?: { mode?: 'topics' | 'blocking'; delaysMs?: number[]; inPlace?: { retries: number; backoff?: BackoffOptions } };
  /** How long one handler call may take (its signal aborts, it fails retriably). Default 30 s. */
  timeoutMs?: number;
  /** A circuit breaker around the handler: while open, fetching pauses instead of burning retries. */
  breaker?: Omit<CircuitBreakerOptions, 'onStateChange'>;
  /** Deduplication on `ce_id`; with a PostgreSQL/PGlite inbox the handler's `ctx.tx` makes effects exactly once. */
  idempotency?: IdempotencyOptions;
  /** More middlewares of your own, outermost first; they run inside the breaker, outside deduplication. */
  middlewares?: Middleware[];
  /** In-flight work above which fetching pauses: records (default 5,000) and bytes (64 MiB). Resumes below half of both. */
  maxInFlight?: { records?: number; bytes?: number };
  /** The group session timeout; handlers may take longer, as fetching (and heartbeating) goes on without them. Default 30 s. */
  sessionTimeoutMs?: number;
  /** How often finished offsets are committed. Default 1000 ms. */
  commitIntervalMs?: number;
  /** Dead-letter settings (the topic is always `<group>.<topic>.dlq`). */
  deadLetter?: Omit<DeadLetterOptions, 'sink'>;
  /**
   * The keys that decrypt `junction.pii` fields for the handlers. Default: the environment's
   * (JUNCTION_PII_KEYS…); without any (or `false`) handlers see the ciphertext strings.
   */
  pii?: PiiKeyring | false;
  /** Called for every record when it is done, with what became of it. */
  onOutcome?: (outcome: Outcome, ctx: EventContext) => void;
  logger?: Logger;
}

/** A running subscriber. */
export interface Subscriber {
  /** Connects, subscribes and starts consuming; resolves once the consumer runs. */
  start(): Promise<void>;
  /** Stops fetching, lets running work finish (at most `deadlineMs`, default 30 s), commits and disconnects. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
  readonly stats: SubscriberStats;
}

/** Counters of a subscriber. */
export interface SubscriberStats {
  inFlightRecords: number;
  inFlightBytes: number;
  outcomes: Record<Outcome, number>;
  /** Partitions currently paused (backpressure or a retry record not yet due). */
  pausedPartitions: number;
  /** Rebalances this subscriber went through since it started. */
  rebalances: number;
}
