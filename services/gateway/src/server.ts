import {
  type Catalog,
  createPublisher,
  kafkaConnectionFromEnv,
  kafkaReadiness,
  loadCatalog,
  type Publisher,
  registryReadiness,
} from '@junction/events';
import {
  memoryRateLimitStore,
  onShutdownSignal,
  type RateLimitStore,
  type RunningServer,
  redisRateLimitStore,
  serveHttp,
} from '@junction/http';
import type { Logger, Metrics } from '@junction/observability';
import { createGatewayApp, type MountedProxy } from './app.ts';
import { readGatewayConfig } from './config.ts';
import { memoryIdempotencyStore } from './idempotency/memory.ts';
import { redisIdempotencyStore } from './idempotency/redis.ts';
import type { IdempotencyStore } from './idempotency/store.ts';
import { mountRouteTable } from './proxy/mount.ts';

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  metrics?: Metrics;
  /** The event catalog; default `loadCatalog` of the configured schemas directory. */
  catalog?: Catalog;
  /** The route table's mounted proxies; default the table of `JUNCTION_GATEWAY_ROUTES` (see `proxy/`). */
  proxies?: readonly MountedProxy[];
}

/** A running gateway. */
export interface RunningGateway {
  readonly url: string;
  readonly publisher: Publisher;
  /** Drains HTTP (`/readyz` 503 for the drain delay first), then flushes the publisher and closes the stores. */
  shutdown(): Promise<void>;
}

/** Starts the gateway from its environment: config, catalog, publisher, stores, then HTTP(S). */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const config = readGatewayConfig(options.env);
  const catalog = options.catalog ?? (await loadCatalog(config.schemasDir));
  const connection = kafkaConnectionFromEnv(options.env);
  const publisher = createPublisher({
    service: 'gateway',
    kafka: connection,
    registry: { url: config.registryUrl },
    catalog,
    // An HTTP caller should hear "busy, retry" (503) quickly rather than hold a connection open.
    ...config.publisher,
    sendTimeoutMs: 10_000,
  });
  const routeTable = options.proxies ? undefined : await mountRouteTable({ file: config.routesFile, logger: options.logger });
  const proxies = options.proxies ?? routeTable ?? [];
  const rateLimitStore: RateLimitStore = config.redisUrl
    ? redisRateLimitStore({ redis: config.redisUrl, logger: options.logger })
    : memoryRateLimitStore();
  const idempotency: IdempotencyStore = config.redisUrl ? redisIdempotencyStore({ redis: config.redisUrl }) : memoryIdempotencyStore();
  const kafkaProbe = kafkaReadiness(connection, 'junction-gateway-readiness');
  let server: RunningServer | undefined;

  const app = createGatewayApp({
    catalog,
    publisher,
    auth: config.auth,
    rateLimit: { store: rateLimitStore, ...config.rateLimit },
    ipRateLimit: config.ipRateLimit,
    idempotency,
    proxies,
    readiness: {
      kafka: () => kafkaProbe.check(),
      registry: registryReadiness(config.registryUrl),
    },
    ...(options.metrics ? { metrics: options.metrics } : {}),
    accepting: () => server?.accepting() ?? true,
    maxBodyBytes: config.maxBodyBytes,
    // With port 0 the port is known once listening: the document asks when it is served.
    publicUrl: () => config.publicUrl ?? server?.url ?? `${config.tls ? 'https' : 'http'}://${config.host}:${config.port}`,
    logger: options.logger,
  });
  server = await serveHttp(app, {
    port: config.port,
    host: config.host,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    drainDelayMs: config.drainDelayMs,
    logger: options.logger,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  const running = server;
  let stopping: Promise<void> | undefined;
  return {
    url: running.url,
    publisher,
    shutdown() {
      stopping ??= (async () => {
        await running.shutdown();
        await publisher.close();
        await Promise.allSettled([rateLimitStore.close(), idempotency.close(), kafkaProbe.close(), routeTable?.close()]);
      })();
      return stopping;
    },
  };
}

/** Stops the gateway gracefully on SIGTERM or SIGINT. */
export function stopOnSignals(gateway: RunningGateway, logger: Logger, then: () => Promise<void>): void {
  onShutdownSignal(async () => {
    await gateway.shutdown();
    await then();
  }, logger);
}
