import { LATENCY_BUCKETS, METRICS } from '../metric-names.ts';
import { above, below, type DashboardSpec, gauge, neutral, stat, timeseries } from './grafana.ts';
import { bucket, count, increase, metric, quantile, rate, ratio, scope, sumBy } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service', 'route'] as const;
const q = scope(VARS);

const requests = metric(METRICS.httpRequests);
const latency = bucket(METRICS.httpDuration);
const answered = count(METRICS.httpDuration);
const outbound = metric(METRICS.httpClientRequests);
const outboundLatency = bucket(METRICS.httpClientDuration);

/** The latency objective: 99% of requests answered within 250 ms. */
const SLO = { seconds: 0.25, target: 0.99 } as const;
// The good-request count is read off one bucket, so the objective must be a bucket bound.
if (!(LATENCY_BUCKETS as readonly number[]).includes(SLO.seconds)) throw new Error(`the SLO bound ${SLO.seconds} s is not a bucket`);

/** The good ratio: requests within the objective's time over all requests, over `window`. */
function good(window: string, f: (selector: string, window: string) => string): string {
  return `${sumBy([], f(q(latency, { le: String(SLO.seconds) }), window))} / ${sumBy([], f(q(answered), window))}`;
}

/** HTTP traffic of the gateway (and every service's HTTP side): rate, errors, latency and the latency SLO. */
export function http(): DashboardSpec {
  const latencyQuantile = (p: number, by: string[] = []) => quantile(p, q(latency), by);
  return {
    uid: 'junction-http',
    title: 'Junction / HTTP gateway',
    description: `Requests by route and status class, 5xx ratio, latency and the latency SLO (${SLO.target * 100}% within ${SLO.seconds * 1000} ms).`,
    variables: variables(requests, VARS),
    panels: [
      stat({
        id: 1,
        title: 'Requests/s',
        description:
          'HTTP requests answered per second by the chosen services and routes. A sudden drop with callers still busy means requests do not arrive (ingress, DNS) or hang.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(requests))) }],
      }),
      stat({
        id: 2,
        title: '5xx ratio',
        description:
          'Share of requests answered with a 5xx status. Above 1% callers see failures: check the routes panel and the services behind the gateway.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [{ expr: ratio(rate(q(requests, { status_class: '5xx' })), rate(q(requests))) }],
      }),
      gauge({
        id: 3,
        title: `Requests within ${SLO.seconds * 1000} ms (range)`,
        description: `Share of requests over the dashboard’s time range answered within ${SLO.seconds * 1000} ms. The objective is ${SLO.target * 100}%: red is below it, orange is close.`,
        unit: 'percentunit',
        thresholds: below(SLO.target, 0.995),
        queries: [{ expr: good('$__range', increase), instant: true }],
        decimals: 2,
        // zoomed in on the part that matters: below 90% the objective is long gone anyway
        min: 0.9,
        max: 1,
      }),
      stat({
        id: 4,
        title: 'Latency error budget left (range)',
        description: `Share of the ${Math.round((1 - SLO.target) * 100)}% slow-request budget not spent over the time range. Below 0 the objective is missed; below 25% slow down risky changes.`,
        unit: 'percentunit',
        thresholds: below(0, 0.25),
        queries: [{ expr: `1 - (1 - (${good('$__range', increase)})) / ${Number((1 - SLO.target).toFixed(4))}`, instant: true }],
        decimals: 0,
      }),
      timeseries({
        id: 5,
        title: 'Requests/s by route and status class',
        description:
          'Requests answered per second by method, route pattern and status class. 4xx are callers’ mistakes (or auth); 5xx are ours.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['method', 'route', 'status_class'], rate(q(requests))), legend: '{{method}} {{route}} {{status_class}}' }],
      }),
      timeseries({
        id: 6,
        title: '5xx ratio by route',
        description:
          'Share of each route’s requests answered with 5xx. One route alone points at the service behind it; all routes at the gateway or a shared dependency.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [{ expr: ratio(rate(q(requests, { status_class: '5xx' })), rate(q(requests)), ['route']), legend: '{{route}}' }],
      }),
      timeseries({
        id: 7,
        title: 'Latency p50 / p95 / p99',
        description: `Time to answer, all chosen routes. p99 above ${SLO.seconds * 1000} ms spends the SLO budget; above 1 s callers start timing out.`,
        unit: 's',
        thresholds: above(SLO.seconds, 1),
        queries: [
          { expr: latencyQuantile(0.5), legend: 'p50' },
          { expr: latencyQuantile(0.95), legend: 'p95' },
          { expr: latencyQuantile(0.99), legend: 'p99' },
        ],
      }),
      timeseries({
        id: 8,
        title: 'Latency p99 by route',
        description: `p99 time to answer per route pattern. The slowest routes spend the SLO budget; above ${SLO.seconds * 1000} ms look at what the route calls.`,
        unit: 's',
        thresholds: above(SLO.seconds, 1),
        queries: [{ expr: latencyQuantile(0.99, ['method', 'route']), legend: '{{method}} {{route}}' }],
      }),
      timeseries({
        id: 9,
        title: `SLO: requests within ${SLO.seconds * 1000} ms`,
        description: `Share of requests answered within ${SLO.seconds * 1000} ms, per interval. The objective is ${SLO.target * 100}%; dips below the red line spend the error budget.`,
        unit: 'percentunit',
        thresholds: below(SLO.target, 0.995),
        queries: [{ expr: good('$__rate_interval', (s, w) => rate(s, w)), legend: 'good ratio' }],
        max: 1,
        width: 24,
      }),
      timeseries({
        id: 10,
        title: 'Outbound calls/s by upstream and outcome',
        description:
          'Calls the gateway made to the services behind it (retries inside one call), by upstream and outcome. unavailable, timeout and circuit-open mean that upstream is down or slow: callers get 502, 504 or 503.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['upstream', 'outcome'], rate(q(outbound))), legend: '{{upstream}} {{outcome}}' }],
      }),
      timeseries({
        id: 11,
        title: 'Outbound latency p99 by upstream',
        description:
          'p99 time of a call to each upstream, retries and backoff included. Close to the route’s timeoutMs means calls are about to time out.',
        unit: 's',
        thresholds: above(SLO.seconds, 1),
        queries: [{ expr: quantile(0.99, q(outboundLatency), ['upstream']), legend: '{{upstream}}' }],
      }),
    ],
  };
}
