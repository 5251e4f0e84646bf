import { METRICS } from '../metric-names.ts';
import { above, type DashboardSpec, neutral, stat, table, timeseries } from './grafana.ts';
import { count, maxBy, metric, orZero, processMetric, rate, ratio, scope, sumBy, up } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service'] as const;
const q = scope(VARS);

const published = metric(METRICS.eventsPublished);
const consumed = metric(METRICS.eventsConsumed);
const attempts = count(METRICS.handlerDuration);
const PUBLISH_FAILED = '=~invalid|refused|failed';

/** The first screen: is Junction moving events, failing, falling behind or dead-lettering, and is everything scraped. */
export function overview(): DashboardSpec {
  return {
    uid: 'junction-overview',
    title: 'Junction / Platform overview',
    description: 'Throughput, errors, consumer lag, dead letters and scrape health of every Junction service.',
    variables: variables(processMetric('nodejs_version_info'), VARS),
    panels: [
      stat({
        id: 1,
        title: 'Published events/s',
        description:
          'Events Kafka acknowledged per second, all topics. A drop to 0 while producers are busy means publishing is failing (see Error ratio).',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(published, { outcome: 'ok' }))) }],
        width: 4,
      }),
      stat({
        id: 2,
        title: 'Consumed events/s',
        description:
          'Records subscribers finished per second, all groups and outcomes. Far below Published events/s for long means consumers fall behind (see Worst consumer lag).',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy([], rate(q(consumed))) }],
        width: 4,
      }),
      stat({
        id: 3,
        title: 'Handler error ratio',
        description:
          'Share of handler attempts that failed (before retries). Above 1% something downstream or in the data is wrong; the Dead letters dashboard shows where.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [{ expr: ratio(rate(q(attempts, { outcome: 'error' })), rate(q(attempts))) }],
        width: 4,
      }),
      stat({
        id: 4,
        title: 'Worst consumer lag',
        description:
          'Age of the oldest unfinished record over every group and partition. Over 30 s consumers are behind; over 5 min users notice. The Consumer lag dashboard shows which partition.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy([], q(metric(METRICS.lagSeconds))) }],
        width: 4,
      }),
      stat({
        id: 5,
        title: 'Dead letters held',
        description:
          'Records waiting in dead-letter topics, all groups. Anything above 0 is business data not processed: inspect with `junction dlq list`, replay once fixed.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy([], q(metric(METRICS.dlqDepth))) }],
        width: 4,
      }),
      stat({
        id: 6,
        title: 'Scrape targets up',
        description:
          'Share of the namespace’s Prometheus targets whose last scrape worked. Below 100% a service is down or its /metrics fails, and every other panel misses it.',
        unit: 'percentunit',
        thresholds: [
          { color: 'red', value: null },
          { color: 'orange', value: 0.8 },
          { color: 'green', value: 1 },
        ],
        queries: [{ expr: `sum(${q(up)}) / count(${q(up)})` }],
        width: 4,
        decimals: 0,
      }),
      timeseries({
        id: 7,
        title: 'Events published per topic',
        description:
          'Events Kafka acknowledged per second, by topic. A topic going flat while its producer runs means publishing stalled; compare with the Error ratio panel.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['topic'], rate(q(published, { outcome: 'ok' }))), legend: '{{topic}}' }],
      }),
      timeseries({
        id: 8,
        title: 'Events consumed per topic',
        description:
          'Records finished per second by all consumer groups of each topic, every outcome. Lower than the publish rate for long means lag grows.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [{ expr: sumBy(['topic'], rate(q(consumed))), legend: '{{topic}}' }],
      }),
      timeseries({
        id: 9,
        title: 'Error ratio',
        description:
          'Publish: share of events not acknowledged (invalid, refused by backpressure, or failed). Handle: share of handler attempts that failed. Above 1% needs a look, above 5% an incident.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [
          { expr: ratio(rate(q(published, { outcome: PUBLISH_FAILED })), rate(q(published))), legend: 'publish' },
          { expr: ratio(rate(q(attempts, { outcome: 'error' })), rate(q(attempts))), legend: 'handle' },
        ],
      }),
      timeseries({
        id: 10,
        title: 'Worst consumer lag by group',
        description:
          'Per group, the age of its oldest unfinished record over all partitions. Steadily rising means the group cannot keep up or is stuck (paused, open circuit, crashed).',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy(['group'], q(metric(METRICS.lagSeconds))), legend: '{{group}}' }],
      }),
      timeseries({
        id: 11,
        title: 'Dead-letter writes by group and topic',
        description:
          'Records written to dead-letter topics per second. Any sustained value means records are failing for good; the record headers say why (`junction dlq list`).',
        unit: 'ops',
        thresholds: above(0.001, 1),
        queries: [
          {
            expr: orZero(sumBy(['group', 'topic'], rate(q(metric(METRICS.dlqWrites)))), sumBy(['group', 'topic'], rate(q(consumed)))),
            legend: '{{group}} ← {{topic}}',
          },
        ],
      }),
      timeseries({
        id: 12,
        title: 'Dead letters held by group and topic',
        description:
          'Records held in each dead-letter topic. It only falls when records are replayed or expire, so a rise is new failures and a flat non-zero line is work left undone.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy(['group', 'topic'], q(metric(METRICS.dlqDepth))), legend: '{{group}} ← {{topic}}' }],
      }),
      table({
        id: 13,
        title: 'Scrape targets',
        description:
          'Every Prometheus target in the namespace and whether its last scrape worked. A DOWN row is a service that is down or whose /metrics fails.',
        unit: 'none',
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
        queries: [{ expr: q(up) }],
        values: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } },
        valueName: 'State',
        sort: 'asc',
        width: 24,
      }),
    ],
  };
}
