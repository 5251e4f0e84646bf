import { METRICS } from '../metric-names.ts';
import { above, type DashboardSpec, neutral, row, timeseries } from './grafana.ts';
import { bucket, either, increase, maxBy, metric, processMetric, quantile, rate, ratio, scope, sumBy } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service', 'topic'] as const;
const q = scope(VARS);

const published = metric(METRICS.eventsPublished);
const consumed = metric(METRICS.eventsConsumed);
const MiB = 1024 * 1024;
const BY = ['service', 'instance'];

/** One or more services in depth: what they publish and consume, their outbox, and the Node.js process under them. */
export function service(): DashboardSpec {
  const publishLatency = (p: number) => quantile(p, q(bucket(METRICS.publishDuration)), ['service', 'topic']);
  const handlerLatency = (p: number) => quantile(p, q(bucket(METRICS.handlerDuration)), ['service', 'group', 'topic']);
  return {
    uid: 'junction-service',
    title: 'Junction / Service',
    description: 'Publishing, consuming, outbox and process health of the chosen services.',
    variables: variables(processMetric('nodejs_version_info'), VARS, { topic: either(published, consumed) }),
    panels: [
      row(1, 'Publishing'),
      timeseries({
        id: 2,
        title: 'Published events/s by topic and outcome',
        description:
          'Events the publisher settled per second: ok (acknowledged), invalid (failed validation: a bug in the producer), refused (publisher backpressure: Kafka slower than the producer), failed (Kafka error or timeout).',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['service', 'topic', 'outcome'], rate(q(published))), legend: '{{service}} {{topic}} {{outcome}}' }],
      }),
      timeseries({
        id: 3,
        title: 'Publish latency p50 / p99 by topic',
        description:
          'Time from publish() to Kafka acknowledging with acks=all. p99 above 250 ms slows every caller waiting on it; above 1 s the brokers or the network are in trouble (the publish timeout is 30 s).',
        unit: 's',
        thresholds: above(0.25, 1),
        queries: [
          { expr: publishLatency(0.5), legend: 'p50 {{service}} {{topic}}' },
          { expr: publishLatency(0.99), legend: 'p99 {{service}} {{topic}}' },
        ],
      }),
      timeseries({
        id: 4,
        title: 'Publish failure ratio by topic',
        description:
          'Share of events the publisher did not get acknowledged (invalid, refused or failed). Above 1% producers see errors; the published-by-outcome panel says which kind.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [
          {
            expr: ratio(rate(q(published, { outcome: '=~invalid|refused|failed' })), rate(q(published)), ['service', 'topic']),
            legend: '{{service}} {{topic}}',
          },
        ],
      }),
      timeseries({
        id: 5,
        title: 'Publisher in-flight bytes',
        description:
          'Encoded bytes accepted and not yet acknowledged. At maxInFlightBytes (16 MiB by default) publish() waits and then refuses: Kafka is not keeping up with the producer.',
        unit: 'bytes',
        thresholds: above(8 * MiB, 16 * MiB),
        queries: [{ expr: sumBy(BY, q(metric(METRICS.publisherInFlightBytes))), legend: '{{service}} {{instance}}' }],
      }),
      row(6, 'Consuming'),
      timeseries({
        id: 7,
        title: 'Consumed by outcome',
        description:
          'Records finished per second by outcome: ok, retried (sent to a retry topic), dead-lettered, deduplicated (seen before), skipped (no handler for the type). Anything but ok growing is worth a look; dead-lettered is data not processed.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['service', 'group', 'outcome'], rate(q(consumed))), legend: '{{service}} {{group}} {{outcome}}' }],
        stack: true,
      }),
      timeseries({
        id: 8,
        title: 'Handler duration p50 / p99',
        description:
          'Duration of one handler attempt (decode, deduplication and the handler). A p99 near the handler timeout (30 s by default) means attempts time out and are retried; a rising p50 lowers throughput and grows lag.',
        unit: 's',
        thresholds: above(1, 10),
        queries: [
          { expr: handlerLatency(0.5), legend: 'p50 {{service}} {{group}} {{topic}}' },
          { expr: handlerLatency(0.99), legend: 'p99 {{service}} {{group}} {{topic}}' },
        ],
      }),
      timeseries({
        id: 9,
        title: 'In-flight records',
        description:
          'Records taken from Kafka and not yet finished. At the bound (5,000 by default) fetching pauses until it falls below half: handlers are slower than the input.',
        unit: 'short',
        thresholds: above(2500, 5000),
        queries: [
          {
            expr: sumBy(['service', 'instance', 'group'], q(metric(METRICS.inFlightRecords))),
            legend: '{{service}} {{instance}} {{group}}',
          },
        ],
      }),
      timeseries({
        id: 10,
        title: 'Worst consumer lag by group',
        description: 'Per group, the age of its oldest unfinished record. Over 30 s this service is behind; over 5 min users notice.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy(['service', 'group'], q(metric(METRICS.lagSeconds))), legend: '{{service}} {{group}}' }],
      }),
      row(11, 'Outbox'),
      timeseries({
        id: 12,
        title: 'Outbox rows pending',
        description:
          'Rows committed with the business change and not yet published. It should hover near 0; a steady rise means the relay cannot publish (Kafka down or slow) and events reach consumers late.',
        unit: 'short',
        thresholds: above(100, 1000),
        queries: [{ expr: maxBy(['service'], q(metric(METRICS.outboxPending))), legend: '{{service}}' }],
      }),
      timeseries({
        id: 13,
        title: 'Oldest pending outbox row',
        description:
          'Age of the oldest outbox row not yet published: how late consumers hear of a change. The relay polls every 200 ms, so seconds mean it is stuck or Kafka refuses it.',
        unit: 's',
        thresholds: above(5, 60),
        queries: [{ expr: maxBy(['service'], q(metric(METRICS.outboxOldestAge))), legend: '{{service}}' }],
      }),
      row(14, 'Process'),
      timeseries({
        id: 15,
        title: 'CPU',
        description:
          'CPU time per second of each process (1 = one core). Node.js runs JavaScript on one core, so near 100% the process is saturated: latency and lag rise.',
        unit: 'percentunit',
        thresholds: above(0.8, 0.95),
        queries: [{ expr: sumBy(BY, rate(q(processMetric('process_cpu_seconds_total')))), legend: '{{service}} {{instance}}' }],
        width: 8,
      }),
      timeseries({
        id: 16,
        title: 'Memory',
        description:
          'Resident memory and used V8 heap of each process. Compare RSS with the container limit; a heap that only grows over hours is a leak.',
        unit: 'bytes',
        thresholds: neutral(),
        queries: [
          { expr: sumBy(BY, q(processMetric('process_resident_memory_bytes'))), legend: 'rss {{service}} {{instance}}' },
          { expr: sumBy(BY, q(processMetric('nodejs_heap_size_used_bytes'))), legend: 'heap {{service}} {{instance}}' },
        ],
        width: 8,
      }),
      timeseries({
        id: 17,
        title: 'Event loop lag p99',
        description:
          'How late the event loop runs timers (p99). Above 50 ms something blocks it (CPU-heavy work, sync I/O, GC) and every request and record waits; above 200 ms health checks may fail.',
        unit: 's',
        thresholds: above(0.05, 0.2),
        queries: [{ expr: maxBy(BY, q(processMetric('nodejs_eventloop_lag_p99_seconds'))), legend: '{{service}} {{instance}}' }],
        width: 8,
      }),
      timeseries({
        id: 18,
        title: 'Metrics probes failing',
        description:
          'Scrape-time questions to Kafka (lag, DLQ depth) or the database (outbox backlog) that failed or timed out, per minute. Meanwhile those panels show the last answer, not a live one: above 0, do not trust lag, DLQ depth or outbox panels of this service.',
        unit: 'short',
        thresholds: above(0.5, 5),
        queries: [{ expr: sumBy(['service', 'probe'], increase(q(metric(METRICS.probeFailures)), '1m')), legend: '{{service}} {{probe}}' }],
        width: 24,
      }),
    ],
  };
}
