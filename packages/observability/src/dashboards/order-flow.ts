import { METRICS } from '../metric-names.ts';
import { above, below, type DashboardSpec, neutral, row, stat, table, timeseries } from './grafana.ts';
import { bucket, either, increase, maxBy, metric, quantile, rate, scope, sumBy } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service'] as const;
const q = scope(VARS);

const placed = metric(METRICS.ordersPlaced);
const confirmed = metric(METRICS.ordersConfirmed);
const cancelled = metric(METRICS.ordersCancelled);
const revenue = metric(METRICS.ordersRevenue);
const lag = metric(METRICS.lagSeconds);
/** The services of the saga: their consumer groups are named after them (`orders`, `orders.<name>`). */
const FLOW = { service: '=~orders|inventory|billing' };

/**
 * The share of the orders placed over the last 10 minutes that were settled (confirmed or
 * cancelled) over the same 10 minutes: about 1 while the flow moves, NaN without orders.
 * JunctionOrdersNotCompleting fires below 0.5.
 */
const completionRatio = (window = '10m'): string =>
  `(${sumBy([], increase(q(confirmed), window))} + ${sumBy([], increase(q(cancelled), window))}) / ${sumBy([], increase(q(placed), window))}`;

/** The business side of the order saga: orders in and out, why they are cancelled, revenue, placed→confirmed time, and the consumers that carry it. */
export function orderFlow(): DashboardSpec {
  const latency = (p: number) => quantile(p, q(bucket(METRICS.ordersConfirmationDuration)), []);
  return {
    uid: 'junction-order-flow',
    title: 'Junction / Order flow',
    description:
      'Orders placed, confirmed and cancelled (by reason), revenue by currency, placed→confirmed latency, the lag and dead letters of orders, inventory and billing, and the webhooks that carry the flow to downstream teams.',
    variables: variables(either(placed, lag), VARS),
    panels: [
      row(1, 'Orders'),
      stat({
        id: 2,
        title: 'Orders placed/s',
        description: 'New orders committed per second (POST /v1/orders; replays of an Idempotency-Key are not counted).',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(placed))) }],
        width: 5,
      }),
      stat({
        id: 3,
        title: 'Orders confirmed/s',
        description:
          'Orders per second that reached confirmed: stock reserved and payment captured. Far below Orders placed/s means the flow is stuck.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(confirmed))) }],
        width: 5,
      }),
      stat({
        id: 4,
        title: 'Orders cancelled/s',
        description:
          'Orders per second cancelled for any reason: out of stock, payment failed, or by the customer. Cancellations by reason says which.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(cancelled))) }],
        width: 5,
      }),
      stat({
        id: 5,
        title: 'Settled share (10 min)',
        description:
          'Orders confirmed or cancelled over the last 10 minutes, as a share of those placed. About 100% while the flow moves; below 50% for 5 minutes JunctionOrdersNotCompleting fires. Empty without orders.',
        unit: 'percentunit',
        thresholds: below(0.5, 0.9),
        queries: [{ expr: completionRatio() }],
        width: 4,
        decimals: 0,
      }),
      stat({
        id: 6,
        title: 'Placed → confirmed p99',
        description:
          'The time 99% of confirmed orders took from placed to confirmed (three hops through Kafka and a payment call). The target is 250 ms; above 1 s customers wait.',
        unit: 's',
        thresholds: above(0.25, 1),
        queries: [{ expr: latency(0.99) }],
        width: 5,
      }),
      timeseries({
        id: 7,
        title: 'Orders per second',
        description:
          'Placed, confirmed and cancelled per second. In a healthy flow confirmed + cancelled follows placed within seconds; a gap that stays open is orders stuck on the way.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [
          { expr: sumBy([], rate(q(placed))), legend: 'placed' },
          { expr: sumBy([], rate(q(confirmed))), legend: 'confirmed' },
          { expr: sumBy([], rate(q(cancelled))), legend: 'cancelled' },
        ],
      }),
      timeseries({
        id: 8,
        title: 'Cancellations by reason',
        description:
          'Cancellations per second: stock-rejected (inventory could not reserve), payment-failed (the provider refused or failed), customer (cancelled by the caller). A jump in one reason points at inventory, billing or the shop.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['reason'], rate(q(cancelled))), legend: '{{reason}}' }],
        stack: true,
      }),
      timeseries({
        id: 9,
        title: 'Revenue in the last hour by currency',
        description:
          'Sum of the totals of orders confirmed over the hour before each point, in major units of each currency (not converted). Later cancellations are not taken off.',
        unit: 'short',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['currency'], increase(q(revenue), '1h')), legend: '{{currency}}' }],
      }),
      timeseries({
        id: 10,
        title: 'Placed → confirmed p50 / p99',
        description:
          'Time from an order being placed to its confirmation. A rising p50 is the whole flow slowing (lag, a slow payment provider); p99 alone is a few orders retried.',
        unit: 's',
        thresholds: above(0.25, 1),
        queries: [
          { expr: latency(0.5), legend: 'p50' },
          { expr: latency(0.99), legend: 'p99' },
        ],
      }),
      table({
        id: 11,
        title: 'Revenue in range by currency',
        description:
          'Confirmed revenue over the dashboard’s time range, one row per currency, in major units (an order of 28.20 EUR counts 28.2).',
        unit: 'short',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['currency'], increase(q(revenue))) }],
        valueName: 'Revenue',
        width: 24,
        height: 6,
      }),
      row(12, 'The consumers of the flow: orders, inventory, billing'),
      timeseries({
        id: 13,
        title: 'Worst consumer lag by group',
        description:
          'Per consumer group of the saga, the age of its oldest unfinished record. Orders wait that long for their next step; over 30 s the flow is behind.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy(['service', 'group'], q(lag, FLOW)), legend: '{{group}}' }],
        width: 8,
      }),
      timeseries({
        id: 14,
        title: 'Dead-letter writes by group',
        description:
          'Records of the saga written to dead-letter topics per second. Each is an order step that will not happen until someone replays it: the order stays where it is.',
        unit: 'ops',
        thresholds: above(0.001, 1),
        queries: [{ expr: sumBy(['group', 'topic'], rate(q(metric(METRICS.dlqWrites), FLOW))), legend: '{{group}} ← {{topic}}' }],
        width: 8,
      }),
      timeseries({
        id: 15,
        title: 'Dead letters held by group',
        description:
          'Records held in the saga’s dead-letter topics. Above 0, orders are stuck: `junction dlq list` says why, `junction dlq replay` moves them on once fixed.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy(['group', 'topic'], q(metric(METRICS.dlqDepth), FLOW)), legend: '{{group}} ← {{topic}}' }],
        width: 8,
      }),
      row(16, 'Webhooks to downstream teams (notifications)'),
      timeseries({
        id: 17,
        title: 'Webhook attempts/s by outcome',
        description:
          'Attempts to deliver events to subscribers’ endpoints, per second: delivered (2xx), retried (failed, another attempt due), abandoned (failed past the attempts or age bound).',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['outcome'], rate(q(metric(METRICS.webhookAttempts)))), legend: '{{outcome}}' }],
        width: 8,
      }),
      timeseries({
        id: 18,
        title: 'Webhook attempt p99 by outcome',
        description:
          'The time 99% of attempts took, from connecting to the answer read (or the failure). Slow endpoints hold their own slots only; a timeout shows as the attempt deadline.',
        unit: 's',
        thresholds: above(1, 10),
        queries: [{ expr: quantile(0.99, q(bucket(METRICS.webhookAttemptDuration)), ['outcome']), legend: '{{outcome}}' }],
        width: 8,
      }),
      stat({
        id: 19,
        title: 'Endpoints disabled by failures',
        description:
          'Subscriptions disabled because every attempt to their endpoint failed past the bound: their events queue until the owner enables them again. JunctionWebhookEndpointDisabled fires above 0.',
        unit: 'short',
        // Orange for one endpoint, red for several: a receiving side down rather than one team's endpoint.
        thresholds: above(1, 2),
        queries: [{ expr: maxBy([], q(metric(METRICS.webhookEndpoints), { state: 'disabled_by_failures' })) }],
        width: 8,
      }),
      table({
        id: 20,
        title: 'Webhook backlog by subscription',
        description:
          'Deliveries neither delivered nor given up, per subscription with a backlog: its endpoint fails, is slow, or is disabled. `GET /v1/notifications/subscriptions/<id>/attempts` says why.',
        unit: 'short',
        thresholds: above(100, 1000),
        queries: [{ expr: maxBy(['subscription_id'], q(metric(METRICS.webhookBacklog))) }],
        valueName: 'Pending',
        width: 12,
      }),
      timeseries({
        id: 21,
        title: 'Oldest undelivered webhook by subscription',
        description:
          'Age of each subscription’s oldest pending delivery. Over 30 minutes and still growing for 15 minutes, JunctionWebhookBacklogGrowing fires.',
        unit: 's',
        thresholds: above(300, 1800),
        queries: [{ expr: maxBy(['subscription_id'], q(metric(METRICS.webhookOldestPending))), legend: '{{subscription_id}}' }],
        width: 12,
      }),
    ],
  };
}
