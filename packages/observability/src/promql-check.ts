import { METRICS, type MetricSpec } from './metric-names.ts';

/**
 * Checks of PromQL written against the metric table — the dashboards, the alert rules, the
 * runbooks, and any team's own: a metric name or a label value the table does not know matches
 * nothing, and a panel goes quietly flat or an alert quietly never fires.
 */

const byName: ReadonlyMap<string, MetricSpec> = new Map(Object.values(METRICS).map((spec) => [spec.name, spec]));

/** The table's entry for a series name, a histogram's `_bucket`, `_count` and `_sum` included. */
export function metricOf(series: string): MetricSpec | undefined {
  const direct = byName.get(series);
  if (direct) return direct;
  const histogram = byName.get(series.replace(/_(bucket|count|sum)$/, ''));
  return histogram?.type === 'histogram' ? histogram : undefined;
}

/** Why a `junction_…` series name is wrong (unknown, or a histogram queried without its suffix), or undefined when it is right. */
export function metricNameProblem(name: string): string | undefined {
  if (byName.has(name)) return byName.get(name)?.type === 'histogram' ? `${name} is a histogram: query _bucket, _count or _sum` : undefined;
  const suffixed = /^(.*)_(bucket|count|sum)$/.exec(name);
  const base = suffixed?.[1] ? byName.get(suffixed[1]) : undefined;
  if (!base) return `${name} is not in METRICS`;
  return base.type === 'histogram' ? undefined : `${name}: only histograms have _${suffixed?.[2]}`;
}

// A selector's matchers end at the first `}` outside a quoted string (double, single or back
// quotes), so a regex such as `[0-9]{2}` does not cut it short. The name before `{` is optional:
// `{__name__=~"a|b", …}` selects several series.
const SELECTOR = /([a-zA-Z_:][\w:]*)?\{((?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*)\}/g;
const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g;
/** A PromQL string's value: backquoted strings are raw, the others drop their escaping backslashes. */
const unquote = (quoted: string) => (quoted.startsWith('`') ? quoted.slice(1, -1) : quoted.slice(1, -1).replace(/\\(.)/g, '$1'));
/** A regex alternative with no metacharacter: it matches exactly itself. */
const literal = (alternative: string) => !/[.^$*+?()[\]{}|\\]/.test(alternative);

/**
 * What is wrong with the matchers of `expr` on labels whose values the table lists, for each
 * series a selector names: a value it does not list (a typo, or one the code renamed). Regexes
 * are checked when they are a plain `a|b|c`; any other regex cannot be, and is reported as such
 * rather than let through.
 */
export function labelValueProblems(expr: string): string[] {
  return [...expr.matchAll(SELECTOR)].flatMap(([, name, body = '']) => {
    const matchers = [...body.matchAll(MATCHER)].map(([, label = '', op = '', value = '']) => ({ label, op, value: unquote(value) }));
    const names = name ? [name] : (matchers.find((m) => m.label === '__name__')?.value.split('|') ?? []);
    return names.flatMap((series) => {
      const declared = metricOf(series)?.values ?? byName.get(series)?.values ?? {};
      return matchers.flatMap(({ label, op, value }) => {
        const values = declared[label];
        if (!values) return [];
        const matcher = `${series}{${label}${op}"${value}"}`;
        const alternatives = op === '=' || op === '!=' ? [value] : value.split('|');
        if (!alternatives.every(literal)) return [`${matcher}: not a plain alternation of values, so it cannot be checked`];
        return alternatives.filter((v) => !values.includes(v)).map((v) => `${matcher}: ${label} is never "${v}" (${values.join(', ')})`);
      });
    });
  });
}
