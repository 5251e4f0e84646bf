import { METRICS } from '../metric-names.ts';
import { above, type DashboardSpec, stat, table, timeseries } from './grafana.ts';
import { count, increase, metric, orZero, rate, ratio, scope, sumBy } from './promql.ts';
import { variables } from './variables.ts';

const VARS = ['namespace', 'service', 'group', 'topic'] as const;
const q = scope(VARS);

const consumed = metric(METRICS.eventsConsumed);
const depth = metric(METRICS.dlqDepth);
const writes = metric(METRICS.dlqWrites);
const attempts = count(METRICS.handlerDuration);
const GROUP_TOPIC = ['group', 'topic'];

/** Where records fail for good: dead-letter writes and depth, and the handler errors behind them. */
export function deadLetters(): DashboardSpec {
  return {
    uid: 'junction-dead-letters',
    title: 'Junction / Dead letters',
    description: 'Dead-letter topics per group and topic, the records that went there, and the handler errors that sent them.',
    variables: variables(consumed, VARS),
    panels: [
      stat({
        id: 1,
        title: 'Dead letters held',
        description:
          'Records waiting in the chosen dead-letter topics. Above 0 is business data not processed: `junction dlq list` shows why, `junction dlq replay` retries once fixed.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy([], q(depth)) }],
        width: 8,
      }),
      stat({
        id: 2,
        title: 'Dead-letter writes in range',
        description:
          'Records written to the chosen dead-letter topics over the dashboard’s time range. Each one is a record that failed every retry or could not be retried.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: orZero(sumBy([], increase(q(writes)))), instant: true }],
        width: 8,
        decimals: 0,
      }),
      stat({
        id: 3,
        title: 'Handler error ratio',
        description:
          'Share of handler attempts that failed, before retries. Above 1% retries and dead letters follow; the per-topic panel below says where.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [{ expr: ratio(rate(q(attempts, { outcome: 'error' })), rate(q(attempts))) }],
        width: 8,
      }),
      timeseries({
        id: 4,
        title: 'Dead-letter writes/s by group and topic',
        description:
          'Records written to each dead-letter topic per second (topic is the original topic). Spikes line up with deploys or a failing dependency; the headers of the records say which.',
        unit: 'ops',
        thresholds: above(0.001, 1),
        queries: [
          { expr: orZero(sumBy(GROUP_TOPIC, rate(q(writes))), sumBy(GROUP_TOPIC, rate(q(consumed)))), legend: '{{group}} ← {{topic}}' },
        ],
      }),
      timeseries({
        id: 5,
        title: 'Dead letters held by group and topic',
        description:
          'Records held in each dead-letter topic (high minus low watermark). Falls only on replay or retention; flat and non-zero is work left undone.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy(GROUP_TOPIC, q(depth)), legend: '{{group}} ← {{topic}}' }],
      }),
      table({
        id: 6,
        title: 'Dead-letter topics now',
        description: 'Every dead-letter topic of the chosen groups with the records it holds, fullest first.',
        unit: 'short',
        thresholds: above(1, 100),
        queries: [{ expr: sumBy(GROUP_TOPIC, q(depth)) }],
        valueName: 'Held',
      }),
      timeseries({
        id: 7,
        title: 'Dead-lettered by event type',
        description:
          'Records subscribers finished with the outcome dead-lettered, per second, by group, topic and event type. One event type alone points at its handler or its data; 0 is none.',
        unit: 'ops',
        thresholds: above(0.001, 1),
        queries: [
          {
            expr: orZero(
              sumBy(['group', 'topic', 'event_type'], rate(q(consumed, { outcome: 'dead-lettered' }))),
              sumBy(['group', 'topic', 'event_type'], rate(q(consumed))),
            ),
            legend: '{{group}} {{topic}} {{event_type}}',
          },
        ],
      }),
      timeseries({
        id: 8,
        title: 'Handler error ratio by group and topic',
        description:
          'Share of handler attempts that failed, per group and topic. Above 1% a dependency or the data is wrong; retried errors that keep failing end up dead-lettered.',
        unit: 'percentunit',
        thresholds: above(0.01, 0.05),
        queries: [{ expr: ratio(rate(q(attempts, { outcome: 'error' })), rate(q(attempts)), GROUP_TOPIC), legend: '{{group}} {{topic}}' }],
        width: 24,
      }),
    ],
  };
}
