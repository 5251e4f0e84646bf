import { JunctionError, type Logger } from '@junction/observability';
import { z } from 'zod';
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

/** The settings of a subscriber with every default applied, checked once. */
export interface ResolvedSubscriberOptions {
  group: string;
  ordering: 'partition' | 'key';
  maxConcurrency: number;
  retry: { mode: 'topics' | 'blocking'; delaysMs: number[]; inPlace: { retries: number; backoff: BackoffOptions } };
  timeoutMs: number;
  maxInFlight: { records: number; bytes: number };
  sessionTimeoutMs: number;
  commitIntervalMs: number;
}

const DAY_MS = 86_400_000;
const MiB = 1024 * 1024;
const positiveMs = (max: number) => z.number().int('a whole number of milliseconds').min(1).max(max);

const schema = z.object({
  // It names the group's retry and dead-letter topics (`<group>.<topic>.retry.1`): topic characters only.
  group: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'the subscribing service, e.g. billing: letters, digits, ".", "_" and "-", at most 100'),
  ordering: z.enum(['partition', 'key']).default('partition'),
  maxConcurrency: z.number().int().min(1).max(10_000).default(16),
  retry: z
    .object({
      mode: z.enum(['topics', 'blocking']).default('topics'),
      delaysMs: z
        .array(positiveMs(7 * DAY_MS))
        .min(1, 'at least one stage; use mode: "blocking" for none')
        .max(10)
        .default([1000, 10_000]),
      inPlace: z
        .object({
          retries: z.number().int().min(0).max(20),
          backoff: z
            .object({
              initialMs: z.number().int().min(1),
              multiplier: z.number().min(1),
              maxMs: z.number().int().min(1),
              jitter: z.number().min(0).max(1),
            })
            .default({ initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 }),
        })
        .default({ retries: 2, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 } }),
    })
    .default({
      mode: 'topics',
      delaysMs: [1000, 10_000],
      inPlace: { retries: 2, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 } },
    }),
  timeoutMs: positiveMs(DAY_MS).default(30_000),
  maxInFlight: z
    .object({
      records: z.number().int().min(1).default(5000),
      bytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * MiB),
    })
    .default({ records: 5000, bytes: 64 * MiB }),
  // The brokers' bounds by default (group.min/max.session.timeout.ms).
  sessionTimeoutMs: z.number().int().min(6000).max(1_800_000).default(30_000),
  commitIntervalMs: positiveMs(60_000).default(1000),
});

/**
 * Checks a subscriber's options once, before anything connects, reporting every problem
 * together in one `config.invalid` error (as the publisher's do), and applies the defaults.
 * Handlers must name event types of the catalog: a typo would otherwise subscribe to nothing.
 */
export function resolveSubscriberOptions<Events>(options: SubscriberOptions<Events>): ResolvedSubscriberOptions {
  const { catalog, handlers, middlewares, onOutcome } = options;
  // The schema reads the settings it names and leaves the rest (clients, stores, callbacks) out.
  const parsed = schema.safeParse(options);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
  const known = new Set(catalog?.events?.map((event) => event.type) ?? []);
  if (!catalog || !Array.isArray(catalog.events)) problems.push('catalog: expected the catalog of schemas/');
  const named = Object.entries(handlers ?? {});
  if (named.length === 0)
    problems.push('handlers: none given; name at least one event type, e.g. { "com.junction.orders.OrderPlaced": handle }');
  for (const [type, handler] of named) {
    if (catalog && !known.has(type)) problems.push(`handlers.${type}: not an event type of the catalog`);
    if (typeof handler !== 'function') problems.push(`handlers.${type}: expected a function`);
  }
  if (middlewares !== undefined && (!Array.isArray(middlewares) || middlewares.some((m) => typeof m !== 'function')))
    problems.push('middlewares: expected an array of middleware functions');
  if (onOutcome !== undefined && typeof onOutcome !== 'function') problems.push('onOutcome: expected a function');
  if (!parsed.success || problems.length) {
    throw new JunctionError('config.invalid', `subscriber options are not valid: ${problems.join('; ')}`, { context: { problems } });
  }
  return parsed.data as ResolvedSubscriberOptions;
}
