import { METRICS } from '../metric-names.ts';
import { above, type DashboardSpec, neutral, stat, table, timeseries } from './grafana.ts';
import { bucket, increase, maxBy, metric, orZero, quantile, rate, scope, sumBy } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service', 'group', 'topic'] as const;
const q = scope(VARS);

const consumed = metric(METRICS.eventsConsumed);
const lagSeconds = metric(METRICS.lagSeconds);
const lagRecords = metric(METRICS.lagRecords);
const PARTITION = ['group', 'topic', 'partition'];
const CIRCUIT = { 0: { text: 'closed', color: 'green' }, 1: { text: 'half-open', color: 'orange' }, 2: { text: 'open', color: 'red' } };

/** Are consumer groups keeping up, and if not, why: slow handlers, backpressure, an open circuit, rebalances or retries. */
export function consumers(): DashboardSpec {
  return {
    uid: 'junction-consumers',
    title: 'Junction / Consumer lag and backpressure',
    description: 'Lag per partition, paused partitions, in-flight work, circuit breakers, rebalances and retries of every consumer group.',
    variables: variables(consumed, VARS),
    panels: [
      stat({
        id: 1,
        title: 'Worst lag',
        description:
          'Age of the oldest unfinished record over the chosen groups and partitions. Over 30 s a group is behind; over 5 min users notice.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy([], q(lagSeconds)) }],
      }),
      stat({
        id: 2,
        title: 'Records behind',
        description:
          'Records published and not yet finished, summed over the chosen groups and partitions. Rising while the input is steady means consumers are slower than producers.',
        unit: 'short',
        thresholds: above(1000, 10000),
        queries: [{ expr: sumBy([], q(lagRecords)) }],
      }),
      stat({
        id: 3,
        title: 'Paused partitions',
        description:
          'Partitions not being fetched now: backpressure (too much in flight), an open circuit, or a retry record not yet due. Brief pauses are normal; long ones grow lag.',
        unit: 'short',
        thresholds: above(1, 10),
        queries: [{ expr: sumBy([], q(metric(METRICS.pausedPartitions))) }],
      }),
      stat({
        id: 4,
        title: 'Worst circuit',
        description:
          'The most open circuit breaker among the chosen groups. Open: a dependency keeps failing, the group pauses and lag grows until probes succeed.',
        unit: 'none',
        thresholds: above(1, 2),
        queries: [{ expr: maxBy([], q(metric(METRICS.circuitState))) }],
        values: CIRCUIT,
      }),
      timeseries({
        id: 5,
        title: 'Lag seconds per partition',
        description:
          'Age of the oldest record of each partition the group has not finished; 0 when caught up. One partition rising alone is a stuck record or a hot key; all rising is a slow or stopped group.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy(PARTITION, q(lagSeconds)), legend: '{{group}} {{topic}}[{{partition}}]' }],
      }),
      timeseries({
        id: 6,
        title: 'Lag records per partition',
        description:
          "Records in each partition the group has not finished (high watermark minus the group's position). Read with the lag in seconds: many records but few seconds is a burst being worked off.",
        unit: 'short',
        thresholds: above(1000, 10000),
        queries: [{ expr: maxBy(PARTITION, q(lagRecords)), legend: '{{group}} {{topic}}[{{partition}}]' }],
      }),
      table({
        id: 7,
        title: 'Partitions by lag now',
        description: 'Every partition of the chosen groups, the most behind first. The top rows are where to look.',
        unit: 's',
        thresholds: above(30, 300),
        queries: [{ expr: maxBy(PARTITION, q(lagSeconds)) }],
        valueName: 'Lag',
        width: 24,
      }),
      timeseries({
        id: 8,
        title: 'Paused partitions by group',
        description:
          'Partitions each member is not fetching. Paused for minutes means handlers cannot drain the in-flight work, or the circuit stays open.',
        unit: 'short',
        thresholds: above(1, 10),
        queries: [
          {
            expr: sumBy(['service', 'instance', 'group'], q(metric(METRICS.pausedPartitions))),
            legend: '{{service}} {{instance}} {{group}}',
          },
        ],
      }),
      timeseries({
        id: 9,
        title: 'In-flight records by group',
        description:
          'Records taken from Kafka and not yet finished. At the bound (5,000 by default) fetching pauses until it falls below half.',
        unit: 'short',
        thresholds: above(2500, 5000),
        queries: [
          {
            expr: sumBy(['service', 'instance', 'group'], q(metric(METRICS.inFlightRecords))),
            legend: '{{service}} {{instance}} {{group}}',
          },
        ],
      }),
      stat({
        id: 10,
        title: 'Circuit state by group',
        description:
          'Each group’s circuit breaker: closed (calls pass), half-open (probing), open (failing fast, partitions paused). Open for long: fix the failing dependency the handler errors name.',
        unit: 'none',
        thresholds: above(1, 2),
        queries: [{ expr: maxBy(['group'], q(metric(METRICS.circuitState))), legend: '{{group}}' }],
        values: CIRCUIT,
        width: 12,
        height: 8,
      }),
      timeseries({
        id: 11,
        title: 'Rebalances',
        description:
          'Rebalances that changed a member’s assignment, per interval. A few during deploys are normal; a steady stream means members crash, time out or flap, and each one stops the group.',
        unit: 'short',
        thresholds: above(1, 3),
        queries: [{ expr: sumBy(['group'], increase(q(metric(METRICS.rebalances)), '$__rate_interval')), legend: '{{group}}' }],
        decimals: 0,
      }),
      timeseries({
        id: 12,
        title: 'Rebalance duration p50 / p99',
        description:
          'How long joining the group took. The group processes nothing meanwhile; joins longer than 10 s point at slow members or session timeouts (30 s by default). Gaps are intervals without a rebalance.',
        unit: 's',
        thresholds: above(10, 30),
        queries: [
          { expr: quantile(0.5, q(bucket(METRICS.rebalanceDuration)), ['group']), legend: 'p50 {{group}}' },
          { expr: quantile(0.99, q(bucket(METRICS.rebalanceDuration)), ['group']), legend: 'p99 {{group}}' },
        ],
      }),
      timeseries({
        id: 13,
        title: 'Retries/s by group and topic',
        description:
          'Handler attempts after the first, per second, in place or from retry topics. Retries absorb transient failures; a sustained rise means a dependency is flaky and dead letters may follow.',
        unit: 'ops',
        thresholds: neutral(),
        queries: [
          {
            expr: orZero(sumBy(['group', 'topic'], rate(q(metric(METRICS.retries)))), sumBy(['group', 'topic'], rate(q(consumed)))),
            legend: '{{group}} {{topic}}',
          },
        ],
      }),
    ],
  };
}
