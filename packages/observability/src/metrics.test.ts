import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { probes, registerProbe, type SubscriberProbe, telemetry } from './telemetry.ts';

const open: Metrics[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const metrics of open.splice(0)) metrics.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function metrics(probeTimeoutMs = 5000): Metrics {
  const created = createMetrics({ service: 'billing', processMetrics: false, probeTimeoutMs });
  open.push(created);
  return created;
}

/** A series `name{a="1",b="2"}` as its name and its labels sorted, so that label order does not matter. */
function seriesKey(series: string): string {
  const open = series.indexOf('{');
  if (open < 0) return series;
  const labels = series.slice(open + 1, series.lastIndexOf('}')).match(/[a-z_]+="(?:[^"\\]|\\.)*"/g) ?? [];
  return `${series.slice(0, open)}{${labels.toSorted().join(',')}}`;
}

/** The value of one series in Prometheus text, by its full `name{labels}` (any label order); undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const wanted = seriesKey(series);
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const cut = line.lastIndexOf(' ');
    if (seriesKey(line.slice(0, cut)) === wanted) return Number(line.slice(cut + 1));
  }
  return undefined;
}

function subscriber(overrides: Partial<SubscriberProbe> = {}): SubscriberProbe {
  const probe: SubscriberProbe = {
    group: 'billing',
    topics: ['orders.order', 'billing.orders.order.retry.1'],
    sourceTopics: ['orders.order'],
    inFlight: () => ({ records: 7, bytes: 700, pausedPartitions: 2 }),
    circuit: () => 'open',
    lag: async () => [
      { topic: 'orders.order', partition: 0, records: 12, seconds: 3.5 },
      { topic: 'orders.order', partition: 1, records: 0, seconds: 0 },
    ],
    deadLetterDepth: async () => [{ topic: 'billing.orders.order.dlq', records: 4 }],
    ...overrides,
  };
  cleanups.push(registerProbe(probes.subscribers, probe));
  return probe;
}

describe('createMetrics', () => {
  it('counts published events by topic, type and outcome, and times acknowledged ones', async () => {
    const m = metrics();
    const type = 'com.junction.orders.OrderPlaced';
    telemetry.publishSettled.publish({ topic: 'orders.order', eventType: type, outcome: 'ok', durationMs: 3 });
    telemetry.publishSettled.publish({ topic: 'orders.order', eventType: type, outcome: 'ok', durationMs: 40 });
    telemetry.publishSettled.publish({ topic: 'orders.order', eventType: type, outcome: 'refused', durationMs: 5000 });
    const text = await m.scrape();
    expect(sample(text, `junction_events_published_total{topic="orders.order",event_type="${type}",outcome="ok",service="billing"}`)).toBe(
      2,
    );
    expect(
      sample(text, `junction_events_published_total{topic="orders.order",event_type="${type}",outcome="refused",service="billing"}`),
    ).toBe(1);
    // Only acknowledged events are timed: the refused one waited 5 s and must not skew latency.
    expect(sample(text, 'junction_publish_duration_seconds_count{topic="orders.order",service="billing"}')).toBe(2);
    expect(sample(text, 'junction_publish_duration_seconds_bucket{le="0.005",topic="orders.order",service="billing"}')).toBe(1);
  });

  it('counts consumed outcomes, handler attempts by outcome, retries, and dead letters', async () => {
    const m = metrics();
    const base = { group: 'billing', topic: 'orders.order', eventType: 'com.junction.orders.OrderPlaced' };
    telemetry.handlerAttempt.publish({ ...base, outcome: 'error', attempt: 1, durationMs: 2 });
    telemetry.handlerAttempt.publish({ ...base, outcome: 'error', attempt: 2, durationMs: 2 });
    telemetry.handlerAttempt.publish({ ...base, outcome: 'ok', attempt: 3, durationMs: 2 });
    telemetry.recordFinished.publish({ ...base, outcome: 'ok' });
    telemetry.recordFinished.publish({ ...base, eventType: 'unknown', outcome: 'dead-lettered' });
    const text = await m.scrape();
    const labels = 'group="billing",topic="orders.order"';
    expect(
      sample(text, `junction_handler_duration_seconds_count{${labels},event_type="${base.eventType}",outcome="error",service="billing"}`),
    ).toBe(2);
    expect(
      sample(text, `junction_handler_duration_seconds_count{${labels},event_type="${base.eventType}",outcome="ok",service="billing"}`),
    ).toBe(1);
    expect(sample(text, `junction_retries_total{${labels},service="billing"}`)).toBe(2);
    expect(sample(text, `junction_events_consumed_total{${labels},event_type="unknown",outcome="dead-lettered",service="billing"}`)).toBe(
      1,
    );
    expect(sample(text, `junction_dlq_writes_total{${labels},service="billing"}`)).toBe(1);
  });

  it('reads gauges from the running subscribers when scraped, and starts their alerting counters at 0', async () => {
    const m = metrics();
    subscriber();
    const text = await m.scrape();
    expect(sample(text, 'junction_consumer_in_flight_records{group="billing",service="billing"}')).toBe(7);
    expect(sample(text, 'junction_consumer_paused_partitions{group="billing",service="billing"}')).toBe(2);
    expect(sample(text, 'junction_circuit_state{group="billing",service="billing"}')).toBe(2);
    expect(sample(text, 'junction_consumer_lag_records{group="billing",topic="orders.order",partition="0",service="billing"}')).toBe(12);
    expect(sample(text, 'junction_consumer_lag_seconds{group="billing",topic="orders.order",partition="0",service="billing"}')).toBe(3.5);
    expect(sample(text, 'junction_consumer_lag_seconds{group="billing",topic="orders.order",partition="1",service="billing"}')).toBe(0);
    expect(sample(text, 'junction_dlq_depth{group="billing",topic="billing.orders.order.dlq",service="billing"}')).toBe(4);
    // Before any dead letter: a 0 that increase() can start from.
    expect(sample(text, 'junction_dlq_writes_total{group="billing",topic="orders.order",service="billing"}')).toBe(0);
  });

  it('starts a subscriber’s alerting counters at 0 the moment it starts, before any scrape', async () => {
    const m = metrics();
    subscriber();
    const dlq = await m.registry.getSingleMetric('junction_dlq_writes_total')?.get();
    expect(dlq?.values).toEqual([{ labels: { group: 'billing', topic: 'orders.order' }, value: 0 }]);
  });

  it('drops a stopped subscriber’s gauges', async () => {
    const m = metrics();
    subscriber();
    expect(await m.scrape()).toContain('junction_consumer_in_flight_records{group="billing"');
    for (const cleanup of cleanups.splice(0)) cleanup();
    expect(await m.scrape()).not.toContain('junction_consumer_in_flight_records{group="billing"');
  });

  it('answers a scrape in time when Kafka does not answer the lag question', async () => {
    const m = metrics(200);
    subscriber({ lag: () => new Promise(() => {}), deadLetterDepth: () => new Promise(() => {}) });
    const started = Date.now();
    const text = await m.scrape();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sample(text, 'junction_consumer_in_flight_records{group="billing",service="billing"}')).toBe(7);
    expect(text).not.toContain('junction_consumer_lag_records{group="billing"');
    expect(sample(text, 'junction_probe_failures_total{probe="lag",service="billing"}')).toBe(1);
    expect(sample(text, 'junction_probe_failures_total{probe="dlq_depth",service="billing"}')).toBe(1);
  });

  it('keeps the last outbox backlog, and counts the failure, when the database stops answering', async () => {
    const m = metrics();
    let answer: Promise<{ pending: number; oldestAgeMs: number }> = Promise.resolve({ pending: 3, oldestAgeMs: 400_000 });
    cleanups.push(registerProbe(probes.outboxes, { backlog: () => answer }));
    expect(sample(await m.scrape(), 'junction_outbox_pending_rows{service="billing"}')).toBe(3);
    answer = Promise.reject(new Error('connection refused'));
    answer.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const text = await m.scrape();
    // Not 0: an unreadable backlog must not look empty (and resolve the backlog alert).
    expect(sample(text, 'junction_outbox_pending_rows{service="billing"}')).toBe(3);
    expect(sample(text, 'junction_outbox_oldest_age_seconds{service="billing"}')).toBe(400);
    expect(sample(text, 'junction_probe_failures_total{probe="outbox_backlog",service="billing"}')).toBe(1);
  });

  it('says once a minute in the log why a probe fails', async () => {
    const warnings: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    const m = createMetrics({ service: 'billing', processMetrics: false, logger });
    open.push(m);
    cleanups.push(registerProbe(probes.outboxes, { backlog: () => Promise.reject(new Error('connection refused')) }));
    await m.scrape();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await m.scrape();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[1]).toEqual({ probe: 'outbox_backlog', error: 'Error: connection refused' });
  });

  it('reports the outbox backlog, oldest age in seconds', async () => {
    const m = metrics();
    cleanups.push(registerProbe(probes.outboxes, { backlog: async () => ({ pending: 3, oldestAgeMs: 90_000 }) }));
    const text = await m.scrape();
    expect(sample(text, 'junction_outbox_pending_rows{service="billing"}')).toBe(3);
    expect(sample(text, 'junction_outbox_oldest_age_seconds{service="billing"}')).toBe(90);
  });

  it('counts HTTP requests by route and status class', async () => {
    const m = metrics();
    telemetry.httpAnswered.publish({ method: 'POST', route: '/v1/events/:type', status: 503, durationMs: 12 });
    telemetry.httpAnswered.publish({ method: 'POST', route: '/v1/events/:type', status: 202, durationMs: 8 });
    const text = await m.scrape();
    expect(sample(text, 'junction_http_requests_total{method="POST",route="/v1/events/:type",status_class="5xx",service="billing"}')).toBe(
      1,
    );
    expect(sample(text, 'junction_http_request_duration_seconds_count{method="POST",route="/v1/events/:type",service="billing"}')).toBe(2);
  });

  it('counts outbound HTTP calls by upstream, method, status class and outcome', async () => {
    const m = metrics();
    const upstream = 'http://127.0.0.1:8101';
    telemetry.httpClientCalled.publish({ upstream, method: 'GET', status: 200, outcome: 'ok', attempts: 2, durationMs: 30 });
    telemetry.httpClientCalled.publish({ upstream, method: 'GET', status: 201, outcome: 'ok', attempts: 1, durationMs: 10 });
    telemetry.httpClientCalled.publish({ upstream, method: 'GET', outcome: 'timeout', attempts: 1, durationMs: 1000 });
    const text = await m.scrape();
    const labels = `upstream="${upstream}",method="GET"`;
    expect(sample(text, `junction_http_client_requests_total{${labels},status_class="2xx",outcome="ok",service="billing"}`)).toBe(2);
    expect(sample(text, `junction_http_client_requests_total{${labels},status_class="none",outcome="timeout",service="billing"}`)).toBe(1);
    expect(
      sample(text, `junction_http_client_request_duration_seconds_count{${labels},status_class="2xx",outcome="ok",service="billing"}`),
    ).toBe(2);
  });

  it('stops counting once closed', async () => {
    const m = metrics();
    m.close();
    telemetry.publishSettled.publish({ topic: 't', eventType: 'x', outcome: 'ok', durationMs: 1 });
    expect(await m.scrape()).not.toContain('junction_events_published_total{');
  });
});
