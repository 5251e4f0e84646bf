import { join } from 'node:path';
import {
  type Catalog,
  createOutbox,
  createOutboxRelay,
  createPublisher,
  createSubscriber,
  type Database,
  type Handler,
  kafkaReadiness,
  loadCatalog,
  type Outbox,
  type OutboxRelay,
  type Publisher,
  postgresInbox,
  type Queryable,
  registryReadiness,
  type Subscriber,
  type SubscriberOptions,
} from '@junction/events';
import { createHttpClient, type HttpClient, type HttpClientOptions, type RunningServer, serveHttp } from '@junction/http';
import type { Logger, Metrics } from '@junction/observability';
import type { Router } from 'express';
import type { z } from 'zod';
import type { ServiceApi } from './api.ts';
import { readServiceConfig, type ServiceConfig } from './config.ts';
import { migrateService, openServiceDatabase, readMigrations } from './database.ts';
import { createServiceApp } from './http.ts';
import { relayWaking } from './relay-wake.ts';

/** One consumer of a service: a handler per event type it reads, in one consumer group. */
export interface Subscription {
  /**
   * The group's suffix: the group is the service's name, or `<service>.<name>` for a second
   * subscription of the same service (its retry and dead-letter topics are named after it).
   */
  name?: string;
  // biome-ignore lint/suspicious/noExplicitAny: handlers of any event type of the catalog.
  handlers: Record<string, Handler<any>>;
  /** Default `key`: different keys at once, each key in order. */
  ordering?: 'key' | 'partition';
  /**
   * Handlers of one record key take turns across topics and processes, each seeing what the last
   * one committed: a transaction lock on the key, taken with the inbox's claim (no round trip of
   * its own). For handlers about one thing (an order) that come from several topics. Default off.
   */
  lockKey?: boolean;
  /**
   * Handlers running at once, on different keys (with `key` ordering). Each holds a connection
   * of the consumers' pool for its transaction. Default 8.
   */
  concurrency?: number;
  /**
   * Default true: each record's handler runs in an inbox transaction (`ctx.tx`), its effects
   * exactly once. false for handlers idempotent by their own writes (one statement whose unique
   * keys absorb a redelivery): no transaction, no inbox row, one round trip less per record.
   * `ctx.tx` is then unset; such a handler writes with the service's `db`.
   */
  inbox?: boolean;
  retry?: SubscriberOptions<unknown>['retry'];
  /** How long one handler call may take. Default 30 s. */
  timeoutMs?: number;
}

/** What a service's routes and handlers are given: its settings, its database, its outbox. */
export interface ServiceContext<Own> {
  readonly name: string;
  readonly config: ServiceConfig<Own>;
  /** The service's own settings (the variables of its `config` schema). */
  readonly own: Own;
  readonly db: Database;
  readonly catalog: Catalog;
  /** Stores events in the caller's transaction; the relay publishes them after the commit. */
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The resilient client for calls outside Kafka (a payment provider): a deadline per call,
   * bounded retries with backoff for idempotent requests (an `Idempotency-Key` makes a POST one),
   * a breaker per upstream. Closed at shutdown.
   */
  readonly http: HttpClient;
  /**
   * Runs `work` in one transaction of the service's database. Events it adds to the outbox with
   * `tx` are committed with its writes, and the relay is told to look at once after the commit.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
}

/** A domain service: its name, port, settings, tables, routes and handlers. Everything else is the kit's. */
export interface ServiceDefinition<Own extends z.ZodRawShape = z.ZodRawShape> {
  /** Lower case: `orders`. Its consumer group, database schema and `JUNCTION_ORDERS_*` variables. */
  name: string;
  /** `JUNCTION_<NAME>_PORT` overrides it. */
  defaultPort: number;
  /** The service's own environment variables, checked at start with the platform's. */
  config?: z.ZodObject<Own>;
  /** A directory of `NNN_name.sql` files, applied in order to the service's schema. */
  migrations?: string;
  /** Runs once the schema is migrated, before HTTP and consumers start: seed data, caches. */
  prepare?: (service: ServiceContext<z.infer<z.ZodObject<Own>>>) => Promise<void>;
  routes?: (router: Router, service: ServiceContext<z.infer<z.ZodObject<Own>>>) => void;
  /**
   * The routes described (schemas, statuses, headers, an example), served at `GET /openapi.json`
   * for the gateway's document; the kit refuses to start when it and the routes disagree.
   */
  api?: ServiceApi;
  subscriptions?: (service: ServiceContext<z.infer<z.ZodObject<Own>>>) => Subscription[];
  /** Settings of the outbound client, per upstream origin or for all (`defaults`). */
  outbound?: HttpClientOptions;
  /**
   * The service's own long-running loops (a dispatcher of webhooks): started once the consumers
   * run, before HTTP; stopped after HTTP drained and before the consumers, the relay and the
   * database, so what a worker finishes while stopping is still committed and published.
   */
  workers?: (service: ServiceContext<z.infer<z.ZodObject<Own>>>) => Worker[];
}

/** A long-running loop of a service, started and stopped by the kit. */
export interface Worker {
  /** For logs: `dispatcher`. */
  readonly name: string;
  start(): Promise<void>;
  /** Finishes or abandons (to be resumed later) what it is doing; resolves when it has stopped. */
  stop(): Promise<void>;
}

/** Options of {@link startService}: what `main` or a test hands in. */
export interface StartServiceOptions {
  logger: Logger;
  metrics: Metrics;
  env?: NodeJS.ProcessEnv;
  /** The event catalog; default `loadCatalog` of the configured schemas directory (tests rename its topics). */
  catalog?: Catalog;
}

/** A running service. */
export interface RunningService<Own = unknown> {
  readonly url: string;
  readonly context: ServiceContext<Own>;
  /**
   * Stops in the order that loses nothing: HTTP drains (readiness 503, then in-flight requests
   * finish), consumers finish their records and commit, the relay sends what was committed,
   * the publisher flushes, and the database closes last.
   */
  shutdown(): Promise<void>;
}

/** Handlers of one subscription running at once, unless it says otherwise. */
const DEFAULT_CONCURRENCY = 8;

/** How long processed events are remembered by the inbox: well past any redelivery. */
const INBOX_TTL_MS = 7 * 24 * 3600_000;

/**
 * Starts a service from its definition and its environment: config, database and migrations,
 * outbox and relay, consumers with the PostgreSQL/PGlite inbox (a handler's `ctx.tx` commits its
 * effects and the events it adds together with the inbox row: exactly once), then HTTP. A failure
 * part-way stops what had started, in reverse.
 */
export async function startService<Own extends z.ZodRawShape>(
  definition: ServiceDefinition<Own>,
  options: StartServiceOptions,
): Promise<RunningService<z.infer<z.ZodObject<Own>>>> {
  const { logger, metrics } = options;
  const config = readServiceConfig({
    name: definition.name,
    defaultPort: definition.defaultPort,
    ...(definition.config ? { own: definition.config } : {}),
    ...(options.env ? { env: options.env } : {}),
    defaultDataDir: join(process.cwd(), '.junction', 'services', definition.name),
  });
  const migrations = definition.migrations ? await readMigrations(definition.migrations) : [];
  const catalog = options.catalog ?? (await loadCatalog(config.schemasDir));
  const undo: Array<() => Promise<unknown>> = [];
  const unwind = async () => {
    for (const step of undo.reverse()) await step().catch(() => {});
  };
  try {
    const db = await openServiceDatabase(config);
    undo.push(() => db.close());
    const applied = await migrateService(db, migrations);
    if (applied.length > 0) logger.info(`migrated schema ${config.schema}: ${applied.join(', ')}`, { migrations: applied });

    const publisher: Publisher = createPublisher({
      service: config.name,
      kafka: config.kafka,
      registry: { url: config.registryUrl },
      catalog,
      compression: config.publishCompression,
    });
    undo.push(() => publisher.close());
    const relay: OutboxRelay = createOutboxRelay({ db, publisher, logger });
    const { outbox, handler: waking } = relayWaking(createOutbox({ service: config.name, catalog }), () => relay.wake());
    const http = createHttpClient({
      ...definition.outbound,
      onCircuitChange: (upstream, state, previous) =>
        logger.warn(`the breaker of ${upstream} went from ${previous} to ${state}`, { upstream, state }),
    });
    undo.push(() => http.close());
    const context: ServiceContext<z.infer<z.ZodObject<Own>>> = {
      name: config.name,
      config,
      own: config.own,
      db,
      catalog,
      outbox,
      logger,
      metrics,
      http,
      async transaction(work) {
        const result = await db.transaction(work);
        relay.wake();
        return result;
      },
    };
    if (definition.prepare) await definition.prepare(context);
    await relay.start();
    undo.push(() => relay.stop());

    const subscribers: Subscriber[] = [];
    const subscriptions = definition.subscriptions?.(context) ?? [];
    // Consumers get a pool of their own, one connection per handler that may run (and one for
    // the inbox's housekeeping): a burst of events then never queues HTTP requests behind its
    // transactions. PGlite has one connection, shared by all.
    const handlers = subscriptions.reduce((sum, s) => sum + (s.inbox === false ? 0 : (s.concurrency ?? DEFAULT_CONCURRENCY)), 0);
    const consumerDb = handlers === 0 || db.kind === 'pglite' ? db : await openServiceDatabase(config, { max: handlers + 1 });
    if (consumerDb !== db) undo.push(() => consumerDb.close());
    const inbox = postgresInbox(consumerDb);
    for (const subscription of subscriptions) {
      const subscriber = createSubscriber({
        group: subscription.name ? `${config.name}.${subscription.name}` : config.name,
        kafka: config.kafka,
        registry: { url: config.registryUrl },
        catalog,
        handlers: Object.fromEntries(Object.entries(subscription.handlers).map(([type, handler]) => [type, waking(handler)])),
        ordering: subscription.ordering ?? 'key',
        maxConcurrency: subscription.concurrency ?? DEFAULT_CONCURRENCY,
        ...(subscription.retry ? { retry: subscription.retry } : {}),
        ...(subscription.timeoutMs ? { timeoutMs: subscription.timeoutMs } : {}),
        ...(subscription.inbox === false
          ? {}
          : { idempotency: { store: inbox, ttlMs: INBOX_TTL_MS, ...(subscription.lockKey ? { lockKey: true } : {}) } }),
        logger,
      });
      await subscriber.start();
      subscribers.push(subscriber);
      undo.push(() => subscriber.stop());
    }

    for (const worker of definition.workers?.(context) ?? []) {
      await worker.start();
      undo.push(() => worker.stop());
    }

    const kafkaProbe = kafkaReadiness(config.kafka, `junction-${config.name}-readiness`);
    undo.push(() => kafkaProbe.close());
    let server: RunningServer | undefined;
    const app = createServiceApp({
      name: config.name,
      ...(definition.api ? { api: definition.api } : {}),
      routes: (router) => definition.routes?.(router, context),
      readiness: {
        kafka: () => kafkaProbe.check(),
        registry: registryReadiness(config.registryUrl),
        database: async () => {
          await db.query('SELECT 1');
        },
      },
      metrics,
      logger,
      accepting: () => server?.accepting() ?? true,
    });
    server = await serveHttp(app, {
      port: config.port,
      host: config.host,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      drainDelayMs: config.drainDelayMs,
      logger,
    });
    const running = server;
    let stopping: Promise<void> | undefined;
    return {
      url: running.url,
      context,
      shutdown() {
        stopping ??= (async () => {
          await running.shutdown();
          await unwind();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
