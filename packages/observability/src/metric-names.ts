import type { Registry } from 'prom-client';

/**
 * Every metric Junction exports, by name, with its type, labels and meaning. This one table is
 * what the code registers, what the dashboards query and what the alert rules watch: a name
 * changed here and not there fails the dashboard and alert tests.
 *
 * Labels follow DESIGN.md (`service`, `topic`, `event_type`, `group`, `outcome`); `service` is a
 * default label of the whole registry. More appear only where a metric would be useless without
 * them: `partition` (lag is per partition) and, for HTTP, `method`, `route` (the route pattern,
 * never the raw path), `status_class` (`2xx`…`5xx`) and, for outbound calls, `upstream` (an origin).
 * The business KPIs of the order flow (`junction_orders_…`, recorded by the orders service through
 * `orderKpis`) add `reason` (a closed set) and `currency` (ISO 4217 codes, a bounded set).
 * The webhooks' (`junction_webhook_…`, recorded by the notifications service through
 * `webhookMetrics`) add `state` (a closed set) and `subscription_id` (bounded by the subscriptions
 * each client may hold).
 */
export const METRICS = {
  eventsPublished: {
    name: 'junction_events_published_total',
    type: 'counter',
    help: 'Events the publisher settled, by outcome: ok (Kafka acknowledged), invalid (failed validation), refused (backpressure), failed (Kafka error or timeout).',
    labels: ['topic', 'event_type', 'outcome'],
    values: { outcome: ['ok', 'invalid', 'refused', 'failed'] },
  },
  publishDuration: {
    name: 'junction_publish_duration_seconds',
    type: 'histogram',
    help: 'Time from publish() to Kafka acknowledging the event (acks=all), for acknowledged events.',
    labels: ['topic'],
  },
  publisherInFlightBytes: {
    name: 'junction_publisher_in_flight_bytes',
    type: 'gauge',
    help: 'Encoded bytes accepted by the publisher and not yet acknowledged (bounded by maxInFlightBytes).',
    labels: [],
  },
  eventsConsumed: {
    name: 'junction_events_consumed_total',
    type: 'counter',
    help: 'Records a subscriber finished, by outcome: ok, retried (sent to a retry topic), dead-lettered, deduplicated, skipped (no handler for the type).',
    labels: ['group', 'topic', 'event_type', 'outcome'],
    values: { outcome: ['ok', 'retried', 'dead-lettered', 'deduplicated', 'skipped'] },
  },
  handlerDuration: {
    name: 'junction_handler_duration_seconds',
    type: 'histogram',
    help: 'Duration of one handler attempt (decode, deduplication and the handler), by outcome: ok or error.',
    labels: ['group', 'topic', 'event_type', 'outcome'],
    values: { outcome: ['ok', 'error'] },
  },
  retries: {
    name: 'junction_retries_total',
    type: 'counter',
    help: 'Handler attempts after the first for a record, in place or from a retry topic.',
    labels: ['group', 'topic'],
  },
  inFlightRecords: {
    name: 'junction_consumer_in_flight_records',
    type: 'gauge',
    help: 'Records taken from Kafka and not yet finished; fetching pauses above the bound.',
    labels: ['group'],
  },
  pausedPartitions: {
    name: 'junction_consumer_paused_partitions',
    type: 'gauge',
    help: 'Partitions not being fetched: backpressure, an open circuit, or a retry record not yet due.',
    labels: ['group'],
  },
  circuitState: {
    name: 'junction_circuit_state',
    type: 'gauge',
    help: 'State of the subscriber circuit breaker: 0 closed, 1 half-open, 2 open.',
    labels: ['group'],
  },
  dlqWrites: {
    name: 'junction_dlq_writes_total',
    type: 'counter',
    help: 'Records written to a dead-letter topic (why is in the record headers: `junction dlq list`).',
    labels: ['group', 'topic'],
  },
  dlqDepth: {
    name: 'junction_dlq_depth',
    type: 'gauge',
    help: 'Records held in a dead-letter topic (high minus low watermark, summed over partitions).',
    labels: ['group', 'topic'],
  },
  lagRecords: {
    name: 'junction_consumer_lag_records',
    type: 'gauge',
    help: "Records in the partition not yet finished by the group (high watermark minus the group's position).",
    labels: ['group', 'topic', 'partition'],
  },
  lagSeconds: {
    name: 'junction_consumer_lag_seconds',
    type: 'gauge',
    help: 'Age of the oldest record of the partition the group has not finished; 0 when caught up.',
    labels: ['group', 'topic', 'partition'],
  },
  rebalances: {
    name: 'junction_rebalances_total',
    type: 'counter',
    help: 'Consumer group rebalances that changed this member’s assignment.',
    labels: ['group'],
  },
  rebalanceDuration: {
    name: 'junction_rebalance_duration_seconds',
    type: 'histogram',
    help: 'Time the group join took (kafkajs GROUP_JOIN duration), per join.',
    labels: ['group'],
  },
  outboxPending: {
    name: 'junction_outbox_pending_rows',
    type: 'gauge',
    help: 'Outbox rows committed and not yet published.',
    labels: [],
  },
  outboxOldestAge: {
    name: 'junction_outbox_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest outbox row not yet published; 0 when none.',
    labels: [],
  },
  probeFailures: {
    name: 'junction_probe_failures_total',
    type: 'counter',
    help: 'Scrape-time questions that failed or timed out (probe: lag, dlq_depth, outbox_backlog); their gauges keep their last answer meanwhile, never read 0.',
    labels: ['probe'],
    values: { probe: ['lag', 'dlq_depth', 'outbox_backlog'] },
  },
  httpRequests: {
    name: 'junction_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered, by method, route pattern and status class.',
    labels: ['method', 'route', 'status_class'],
    values: { status_class: ['1xx', '2xx', '3xx', '4xx', '5xx'] },
  },
  httpDuration: {
    name: 'junction_http_request_duration_seconds',
    type: 'histogram',
    help: 'Time to answer an HTTP request, by method and route pattern.',
    labels: ['method', 'route'],
  },
  httpClientRequests: {
    name: 'junction_http_client_requests_total',
    type: 'counter',
    help: 'Outbound HTTP calls (retries included in one call), by upstream origin, method, last status class (none: no answer) and outcome: ok (answered), unavailable (refused, reset, or 502/503/504 after retries), timeout, circuit-open (refused without a request), error (anything else).',
    labels: ['upstream', 'method', 'status_class', 'outcome'],
    values: {
      status_class: ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'],
      outcome: ['ok', 'unavailable', 'timeout', 'circuit-open', 'error'],
    },
  },
  httpClientDuration: {
    name: 'junction_http_client_request_duration_seconds',
    type: 'histogram',
    help: 'Time an outbound HTTP call took, retries and backoff included, to its response headers or failure.',
    labels: ['upstream', 'method', 'status_class', 'outcome'],
  },
  ordersPlaced: {
    name: 'junction_orders_placed_total',
    type: 'counter',
    help: 'Orders taken (POST /orders committed); a replay of the same Idempotency-Key is not counted again.',
    labels: [],
  },
  ordersConfirmed: {
    name: 'junction_orders_confirmed_total',
    type: 'counter',
    help: 'Orders that reached confirmed (stock reserved and payment captured), each once.',
    labels: [],
  },
  ordersCancelled: {
    name: 'junction_orders_cancelled_total',
    type: 'counter',
    help: 'Orders cancelled, each once, by reason: stock-rejected (inventory could not reserve), payment-failed, customer (POST /orders/:id/cancel, confirmed orders included).',
    labels: ['reason'],
    values: { reason: ['stock-rejected', 'payment-failed', 'customer'] },
  },
  ordersRevenue: {
    name: 'junction_orders_revenue_total',
    type: 'counter',
    help: 'Sum of the totals of confirmed orders, in major units of the currency (an order of 28.20 EUR adds 28.2 to currency="EUR"); currency is the ISO 4217 code, or other for a code the runtime does not know. A later cancellation is not taken off.',
    labels: ['currency'],
  },
  ordersConfirmationDuration: {
    name: 'junction_orders_placed_to_confirmed_seconds',
    type: 'histogram',
    help: 'Time from an order being placed (its placed_at) to its confirmation, for confirmed orders.',
    labels: [],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  webhookAttempts: {
    name: 'junction_webhook_attempts_total',
    type: 'counter',
    help: 'Webhook delivery attempts, by outcome: delivered (the endpoint answered 2xx), retried (it failed and another attempt is due), abandoned (it failed and the delivery was given up).',
    labels: ['outcome'],
    values: { outcome: ['delivered', 'retried', 'abandoned'] },
  },
  webhookAttemptDuration: {
    name: 'junction_webhook_attempt_duration_seconds',
    type: 'histogram',
    help: 'Time a webhook attempt took, from connecting to the answer read (or the failure), by outcome.',
    labels: ['outcome'],
    values: { outcome: ['delivered', 'retried', 'abandoned'] },
  },
  webhookEndpoints: {
    name: 'junction_webhook_endpoints',
    type: 'gauge',
    help: 'Webhook subscriptions by state: active, failing (active, every attempt failing), disabled_by_failures (disabled after failing past the bound; deliveries queue), disabled_by_owner.',
    labels: ['state'],
    values: { state: ['active', 'failing', 'disabled_by_failures', 'disabled_by_owner'] },
  },
  webhookBacklog: {
    name: 'junction_webhook_backlog',
    type: 'gauge',
    help: 'Deliveries not yet delivered nor given up, per subscription (its id; one series per subscription with a backlog).',
    labels: ['subscription_id'],
  },
  webhookOldestPending: {
    name: 'junction_webhook_oldest_pending_seconds',
    type: 'gauge',
    help: 'Age of the oldest delivery not yet delivered nor given up, per subscription with a backlog.',
    labels: ['subscription_id'],
  },
} as const satisfies Record<string, MetricSpec>;

/** What {@link METRICS} says of one metric. */
export interface MetricSpec {
  name: `junction_${string}`;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  /** Every value a label may take, for the labels with a closed set: dashboards and alerts are checked against them. */
  values?: Readonly<Record<string, readonly string[]>>;
  /** A histogram's bucket bounds in seconds, when not {@link LATENCY_BUCKETS}. */
  buckets?: readonly number[];
}

/**
 * What prom-client's metric constructors take for one of {@link METRICS}, registered in `registry`:
 * the name, help and label names come from the spec, so a metric cannot drift from its entry.
 */
export function metricOptions<S extends MetricSpec>(spec: S, registry: Registry) {
  return { name: spec.name, help: spec.help, labelNames: spec.labels as S['labels'], registers: [registry] };
}

/** Histogram buckets in seconds, for latencies from a millisecond to a minute. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** The value of `junction_circuit_state` for each breaker state. */
export const CIRCUIT_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
