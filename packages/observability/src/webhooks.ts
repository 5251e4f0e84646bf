import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, METRICS, type MetricSpec, metricOptions } from './metric-names.ts';
import type { Metrics } from './metrics.ts';

/** What became of a webhook attempt, as the metrics count it. */
export type WebhookAttemptOutcome = (typeof METRICS.webhookAttempts.values.outcome)[number];

/** A subscription's state, as the endpoints gauge counts it. */
export type WebhookEndpointState = (typeof METRICS.webhookEndpoints.values.state)[number];

/** The webhooks' state when Prometheus scrapes, read by the notifications service from its database. */
export interface WebhookSnapshot {
  endpoints: Partial<Record<WebhookEndpointState, number>>;
  /** Per subscription with deliveries pending: how many, and the oldest one's age. */
  backlog: ReadonlyArray<{ subscriptionId: string; pending: number; oldestSeconds: number }>;
}

/** What the notifications service records. */
export interface WebhookMetrics {
  /** An attempt ended; counted once it is recorded. */
  attempt(outcome: WebhookAttemptOutcome, durationMs: number): void;
}

/** Longest a scrape waits for the snapshot; past it the gauges keep their last values. */
const SNAPSHOT_TIMEOUT_MS = 5000;
/** A snapshot serves the scrape that read it (a second's worth), not the next. */
const SNAPSHOT_REUSE_MS = 1000;

function createWebhookMetrics(registry: Registry, snapshot: () => Promise<WebhookSnapshot>): WebhookMetrics {
  const spec = <S extends MetricSpec>(s: S) => metricOptions(s, registry);
  const attempts = new Counter(spec(METRICS.webhookAttempts));
  for (const outcome of METRICS.webhookAttempts.values.outcome) attempts.inc({ outcome }, 0);
  const duration = new Histogram({ ...spec(METRICS.webhookAttemptDuration), buckets: [...LATENCY_BUCKETS] });
  const endpoints = new Gauge({ ...spec(METRICS.webhookEndpoints), collect: () => refresh() });
  const backlog = new Gauge({ ...spec(METRICS.webhookBacklog), collect: () => refresh() });
  const oldest = new Gauge({ ...spec(METRICS.webhookOldestPending), collect: () => refresh() });
  // One read serves the three gauges of a scrape: each gauge's collect asks, the first one reads,
  // and the others of the same scrape reuse it.
  let reading: Promise<void> | undefined;
  const refresh = () => {
    reading ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const taken = await Promise.race([
          snapshot(),
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), SNAPSHOT_TIMEOUT_MS);
          }),
        ]);
        if (!taken) return;
        for (const state of METRICS.webhookEndpoints.values.state) endpoints.set({ state }, taken.endpoints[state] ?? 0);
        backlog.reset();
        oldest.reset();
        for (const b of taken.backlog) {
          backlog.set({ subscription_id: b.subscriptionId }, b.pending);
          oldest.set({ subscription_id: b.subscriptionId }, b.oldestSeconds);
        }
      } catch {
        // The database is away: the gauges keep their last values, and /readyz says why.
      } finally {
        clearTimeout(timer);
        setTimeout(() => {
          reading = undefined;
        }, SNAPSHOT_REUSE_MS).unref();
      }
    })();
    return reading;
  };
  return {
    attempt(outcome, durationMs) {
      if (!METRICS.webhookAttempts.values.outcome.includes(outcome)) throw new Error(`not a webhook attempt outcome: ${outcome}`);
      attempts.inc({ outcome });
      duration.observe({ outcome }, Math.max(0, durationMs) / 1000);
    },
  };
}

const byRegistry = new WeakMap<Registry, WebhookMetrics>();

/**
 * The webhook metrics of `metrics`' registry, registered on first use (the same object
 * afterwards): attempts by outcome and their duration, recorded as they end; endpoints by state
 * and each subscription's backlog, read with `snapshot` when Prometheus scrapes.
 */
export function webhookMetrics(metrics: Pick<Metrics, 'registry'>, snapshot: () => Promise<WebhookSnapshot>): WebhookMetrics {
  let recorded = byRegistry.get(metrics.registry);
  if (!recorded) {
    recorded = createWebhookMetrics(metrics.registry, snapshot);
    byRegistry.set(metrics.registry, recorded);
  }
  return recorded;
}
