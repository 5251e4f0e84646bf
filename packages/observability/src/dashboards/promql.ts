import type { MetricSpec } from '../metric-names.ts';

/** Series a query may select: one name, or several (`{__name__=~"a|b"}`) that share the labels used. */
export interface Series {
  names: readonly string[];
  /** Every label its samples carry, the ones Prometheus adds included. */
  labels: readonly string[];
}

type Histogram = MetricSpec & { type: 'histogram' };

/** Labels Prometheus adds to every scraped sample (`namespace` by relabelling, in Kubernetes and locally). */
const SCRAPE = ['namespace', 'job', 'instance'];
/** Labels of every sample from a Junction registry: the scrape's and the registry's default `service`. */
const REGISTRY = [...SCRAPE, 'service'];

/** The series of a counter or gauge from the metrics table. */
export const metric = (spec: MetricSpec & { type: 'counter' | 'gauge' }): Series => ({
  names: [spec.name],
  labels: [...REGISTRY, ...spec.labels],
});
/** The `_bucket` series of a histogram; only histograms have one, and the type says so. */
export const bucket = (spec: Histogram): Series => ({ names: [`${spec.name}_bucket`], labels: [...REGISTRY, ...spec.labels, 'le'] });
/** The `_count` series of a histogram. */
export const count = (spec: Histogram): Series => ({ names: [`${spec.name}_count`], labels: [...REGISTRY, ...spec.labels] });
/** A prom-client default metric (`process_…`, `nodejs_…`): it carries only the registry's labels. */
export const processMetric = (name: `process_${string}` | `nodejs_${string}`): Series => ({ names: [name], labels: REGISTRY });
/** Prometheus's own `up`: 1 when the last scrape of a target worked. It has no `service` label. */
export const up: Series = { names: ['up'], labels: SCRAPE };
/** Any of several series, with the labels they all carry. */
export const either = (...series: Series[]): Series => ({
  names: series.flatMap((s) => s.names),
  labels: series.reduce<readonly string[]>((common, s) => common.filter((l) => s.labels.includes(l)), series[0]?.labels ?? []),
});

/**
 * A selector builder bound to a dashboard's template variables: each variable becomes an `=~"$var"`
 * matcher on the series that carry its label, and only on those, because a matcher on an absent
 * label matches nothing once someone picks a value.
 *
 * `matchers` values are equality by default; prefix `=~`, `!=` or `!~` for the other operators.
 * A matcher on a label the series lacks throws, so a query cannot filter on a label that never comes.
 */
export function scope(variables: readonly string[]): (series: Series, matchers?: Record<string, string>) => string {
  return (series, matchers = {}) => {
    const has = (label: string) => series.labels.includes(label);
    const parts = variables.filter(has).map((v) => `${v}=~"$${v}"`);
    for (const [label, value] of Object.entries(matchers)) {
      if (!has(label)) throw new Error(`${series.names.join('|')} has no label ${label}`);
      const op = /^(=~|!=|!~)/.exec(value)?.[0] ?? '=';
      parts.push(`${label}${op}"${value.slice(op === '=' ? 0 : op.length)}"`);
    }
    const [name, ...more] = series.names;
    if (more.length) return `{${[`__name__=~"${series.names.join('|')}"`, ...parts].join(',')}}`;
    return parts.length ? `${name}{${parts.join(',')}}` : `${name}`;
  };
}

/** Per-second rate over Grafana's `$__rate_interval`, which spans at least four scrapes, so a live counter always has one. */
export const rate = (selector: string, window = '$__rate_interval'): string => `rate(${selector}[${window}])`;
/** Increase over a window, `$__range` (the dashboard's time range) by default. */
export const increase = (selector: string, window = '$__range'): string => `increase(${selector}[${window}])`;

/** `sum by (labels) (expr)`, or `sum(expr)` without labels. */
export const sumBy = (labels: readonly string[], expr: string): string =>
  labels.length ? `sum by (${labels.join(', ')}) (${expr})` : `sum(${expr})`;
/** `max by (labels) (expr)`, or `max(expr)` without labels. */
export const maxBy = (labels: readonly string[], expr: string): string =>
  labels.length ? `max by (${labels.join(', ')}) (${expr})` : `max(${expr})`;

/** The q-quantile of a histogram's bucket rates, grouped by `labels`. */
export const quantile = (q: number, bucketSelector: string, labels: readonly string[], window = '$__rate_interval'): string =>
  `histogram_quantile(${q}, ${sumBy(['le', ...labels], rate(bucketSelector, window))})`;

/**
 * `expr`, or 0 for every group `base` has where `expr` has none (a single 0 without `base`): a counter
 * with labels has no series until its first increment, and a zero line says "none" where an empty
 * panel says "broken".
 */
export const orZero = (expr: string, base?: string): string => `(${expr} or ${base ? `${base} * 0` : 'vector(0)'})`;

/**
 * The share of `all` that is `bad`, per group of `labels`: 0 (not empty) where nothing was bad yet,
 * NaN where there was no traffic at all.
 */
export const ratio = (bad: string, all: string, labels: readonly string[] = []): string =>
  `${orZero(sumBy(labels, bad), sumBy(labels, all))} / ${sumBy(labels, all)}`;
