import { z } from 'zod';
import { JunctionError } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { type MetricsServer, serveMetrics } from './serve.ts';
import { startTracing, type Tracing, type TracingOptions } from './tracing.ts';

/** Options of {@link initObservability}. */
export interface ObservabilityOptions {
  /** The service name on every log line, series and span. */
  service: string;
  /** Field names never logged in clear: `piiFields(catalog)` from `@junction/events`. */
  redact?: Iterable<string>;
  /**
   * Serve `/metrics`, `/healthz` and `/readyz` on a port of their own (`JUNCTION_METRICS_PORT`
   * overrides the port). Leave it out when the service mounts `metricsHandler` on its own app.
   */
  metricsServer?: { port?: number; host?: string; ready?: () => Promise<boolean> };
  /** Tracing: default on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; tests pass span processors. */
  tracing?: Pick<TracingOptions, 'spanProcessors'> | false;
  /** Default `process.env`, read once here. */
  env?: NodeJS.ProcessEnv;
}

/** What {@link initObservability} set up; `shutdown` flushes spans and closes the metrics server. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The metrics server, when one was asked for. */
  readonly server?: MetricsServer;
  readonly tracing: boolean;
  shutdown(): Promise<void>;
}

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const environment = z.object({
  LOG_LEVEL: z.enum(LEVELS).optional(),
  JUNCTION_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  JUNCTION_METRICS_HOST: z.string().min(1).optional(),
  JUNCTION_METRICS_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).optional(),
});

/** Reads the observability settings of the environment, reporting every problem at once. */
function readEnvironment(env: NodeJS.ProcessEnv) {
  const parsed = environment.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new JunctionError('config.invalid', `observability settings in the environment are not valid: ${problems.join('; ')}`, {
    context: { problems },
  });
}

let initialised: string | undefined;

/**
 * Sets up logs, metrics and traces for one process, once: a JSON logger with trace and event
 * fields and redaction, a Prometheus registry fed by Junction's telemetry (and its `/metrics`
 * endpoint when asked), and OpenTelemetry tracing when an OTLP endpoint is configured.
 */
export async function initObservability(options: ObservabilityOptions): Promise<Observability> {
  if (initialised !== undefined) {
    throw new JunctionError(
      'config.invalid',
      `initObservability was already called (for ${initialised}): call it once per process, at start`,
    );
  }
  const env = readEnvironment(options.env ?? process.env);
  const logger = createLogger({
    service: options.service,
    ...(env.LOG_LEVEL ? { level: env.LOG_LEVEL } : {}),
    ...(options.redact ? { redact: options.redact } : {}),
  });
  const metrics = createMetrics({
    service: options.service,
    logger,
    ...(env.JUNCTION_METRICS_PROBE_TIMEOUT_MS ? { probeTimeoutMs: env.JUNCTION_METRICS_PROBE_TIMEOUT_MS } : {}),
  });
  const wantsTracing =
    options.tracing !== false &&
    env.OTEL_SDK_DISABLED !== 'true' &&
    (options.tracing?.spanProcessors !== undefined || !!env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracing: Tracing | undefined = wantsTracing
    ? startTracing({ service: options.service, ...(options.tracing ? options.tracing : {}) })
    : undefined;
  let server: MetricsServer | undefined;
  if (options.metricsServer || env.JUNCTION_METRICS_PORT !== undefined) {
    const port = env.JUNCTION_METRICS_PORT ?? options.metricsServer?.port;
    const host = env.JUNCTION_METRICS_HOST ?? options.metricsServer?.host;
    server = await serveMetrics(metrics, {
      ...(port !== undefined ? { port } : {}),
      ...(host ? { host } : {}),
      ...(options.metricsServer?.ready ? { ready: options.metricsServer.ready } : {}),
    });
  }
  initialised = options.service;
  logger.info('observability ready', { metrics: server?.url ?? 'mounted by the service', tracing: !!tracing });
  return {
    logger,
    metrics,
    ...(server ? { server } : {}),
    tracing: !!tracing,
    async shutdown() {
      metrics.close();
      await Promise.allSettled([server?.close(), tracing?.shutdown()]);
      initialised = undefined;
    },
  };
}
