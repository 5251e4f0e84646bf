import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../paths.ts';
import { percentile } from './produce.ts';

/** Which path a run drove: HTTP through the gateway, or `publish` calls in this process. */
export type Side = 'gateway' | 'raw';

/** How a run was paced: `rate` requests per second in all, or as fast as `connections` allow. */
export type Load = 'fixed' | 'max';

/** What one run saw, before any statistics. */
export interface LoadRun {
  side: Side;
  load: Load;
  /** Requests answered 2xx (gateway) or acknowledged (raw publisher). */
  ok: number;
  /** Non-2xx answers, connection errors and timeouts (gateway), or failed publishes (raw). */
  failed: number;
  /** From the first request to the end of the run. */
  seconds: number;
  /** Milliseconds of every successful request, send to answer (or `publish` call to Kafka's ack). */
  latencies: number[];
  /** The first failure's answer or error, which usually says why. */
  firstFailure?: string;
}

/** One row of the printed table. */
export interface LoadSummary {
  side: Side;
  load: Load;
  /** Requests that finished, successful or not. */
  requests: number;
  seconds: number;
  /** Finished requests per second. */
  rate: number;
  /** Successful requests per second: what the throughput ratio compares, so fast refusals earn nothing. */
  okRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Failed / finished; 0 when nothing finished. */
  errorRatio: number;
}

/** The statistics of one run. */
export function summarise(run: LoadRun): LoadSummary {
  const sorted = Float64Array.from(run.latencies).sort();
  const values = Array.from(sorted);
  const requests = run.ok + run.failed;
  const seconds = run.seconds > 0 ? run.seconds : Number.EPSILON;
  return {
    side: run.side,
    load: run.load,
    requests,
    seconds: run.seconds,
    rate: requests / seconds,
    okRate: run.ok / seconds,
    p50Ms: percentile(values, 0.5),
    p90Ms: percentile(values, 0.9),
    p99Ms: percentile(values, 0.99),
    maxMs: values.at(-1) ?? 0,
    errorRatio: requests === 0 ? 0 : run.failed / requests,
  };
}

/**
 * Each connection's (or lane's) share of `rate` requests per second, as autocannon's
 * `overallRate` splits it: the first `rate % lanes` get one more. Lanes beyond `rate` would get
 * nothing, so there are at most `rate` of them (autocannon lowers its connections the same way).
 */
export function laneBudgets(rate: number, lanes: number): number[] {
  const count = Math.max(1, Math.min(rate, lanes));
  return Array.from({ length: count }, (_, i) => Math.floor(rate / count) + (i < rate % count ? 1 : 0));
}

/** Room above the calibrated concurrency, so a slower stretch does not leave a second's budget unsent. */
export const CONCURRENCY_HEADROOM = 1.5;

/**
 * The connections a fixed-rate run needs by Little's law: `rate` requests per second, each
 * taking `latencyMs` (the mean at low concurrency), keep `rate × latency` in flight; with
 * {@link CONCURRENCY_HEADROOM} on top, rounded up. autocannon hands each connection its share of
 * every second and sends it back to back, so more connections than this only make each second
 * start with a burst that queues in the gateway; fewer could not hold the rate.
 */
export function calibratedConnections(rate: number, latencyMs: number, headroom = CONCURRENCY_HEADROOM): number {
  if (!(latencyMs > 0) || !Number.isFinite(latencyMs)) return 1;
  return Math.max(1, Math.min(rate, Math.ceil(((rate * latencyMs) / 1000) * headroom)));
}

/** Mean of `values` in ms; 0 when empty. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The numbers the headline states. */
export interface Verdict {
  /** Gateway p99 minus raw publisher p99 at the fixed rate, in ms. */
  addedP99Ms: number;
  /** Gateway successful requests per second over the raw publisher's, at max rate. */
  throughputRatio: number;
  /** Whether the added p99 is within `targetMs` and the gateway's fixed-rate run kept up without errors. */
  meets: boolean;
}

/** The fraction of the asked rate a fixed-rate run must reach to count as having held it. */
export const HELD_RATE = 0.95;

/** Compares the gateway with the raw publisher: added p99 at the fixed rate, throughput ratio at max rate. */
export function verdictOf(
  runs: { gateway: Record<Load, LoadSummary>; raw: Record<Load, LoadSummary> },
  rate: number,
  targetMs: number,
): Verdict {
  const addedP99Ms = runs.gateway.fixed.p99Ms - runs.raw.fixed.p99Ms;
  const throughputRatio = runs.raw.max.okRate > 0 ? runs.gateway.max.okRate / runs.raw.max.okRate : 0;
  const held = runs.gateway.fixed.okRate >= HELD_RATE * rate && runs.gateway.fixed.errorRatio === 0;
  return { addedP99Ms, throughputRatio, meets: held && addedP99Ms <= targetMs };
}

const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 1);

/** A table row of `summary`: side, load, requests, seconds, achieved rate, latencies, error ratio. */
export function summaryRow(summary: LoadSummary, rate: number, connections: Record<Load, number>): string[] {
  return [
    summary.side === 'gateway' ? 'gateway (HTTP)' : 'raw publisher',
    summary.load === 'fixed'
      ? `fixed ${rate.toLocaleString('en')}/s, ≤ ${connections.fixed} in flight`
      : `max, ${connections.max} in flight`,
    summary.requests.toLocaleString('en'),
    summary.seconds.toFixed(1),
    Math.round(summary.rate).toLocaleString('en'),
    ms(summary.p50Ms),
    ms(summary.p90Ms),
    ms(summary.p99Ms),
    ms(summary.maxMs),
    `${(summary.errorRatio * 100).toFixed(2)} %`,
  ];
}

/** Headers of the rows {@link summaryRow} makes. */
export const SUMMARY_HEADERS = ['PATH', 'LOAD', 'REQUESTS', 'SECONDS', 'REQ/S', 'P50 MS', 'P90 MS', 'P99 MS', 'MAX MS', 'ERRORS'];

let example: Record<string, unknown> | undefined;

/**
 * The README's `com.junction.orders.OrderPlaced` body (schemas/examples/order-placed.json) with a
 * fresh `orderId`: each request is a distinct event with its own key, spread over the partitions.
 */
export function orderPlaced(orderId: string = randomUUID()): Record<string, unknown> {
  example ??= JSON.parse(readFileSync(join(repositoryRoot(), 'schemas', 'examples', 'order-placed.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return { ...example, orderId, placedAt: new Date().toISOString() };
}
