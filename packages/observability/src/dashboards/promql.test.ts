import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../metric-names.ts';
import { type Dashboard, dashboards, panelQueries } from './index.ts';
import { bucket, either, metric, orZero, processMetric, ratio, scope, up } from './promql.ts';

describe('scope()', () => {
  const q = scope(['namespace', 'service', 'group']);

  it('adds a matcher for each variable whose label the series carries, and only those', () => {
    expect(q(metric(METRICS.dlqDepth))).toBe('junction_dlq_depth{namespace=~"$namespace",service=~"$service",group=~"$group"}');
    expect(q(metric(METRICS.outboxPending))).toBe('junction_outbox_pending_rows{namespace=~"$namespace",service=~"$service"}');
    expect(q(processMetric('process_cpu_seconds_total'))).toBe('process_cpu_seconds_total{namespace=~"$namespace",service=~"$service"}');
    expect(q(up)).toBe('up{namespace=~"$namespace"}');
  });

  it('takes equality by default and the other operators by prefix', () => {
    const sel = q(metric(METRICS.eventsConsumed), { outcome: 'ok', topic: '=~a|b', event_type: '!=x' });
    expect(sel).toContain(',outcome="ok",topic=~"a|b",event_type!="x"}');
    expect(scope([])(bucket(METRICS.httpDuration), { le: '0.25' })).toBe('junction_http_request_duration_seconds_bucket{le="0.25"}');
  });

  it('refuses a matcher on a label the series does not carry', () => {
    expect(() => q(metric(METRICS.inFlightRecords), { topic: 'orders.order' })).toThrow(/has no label topic/);
    expect(() => q(metric(METRICS.eventsPublished), { le: '1' })).toThrow(/has no label le/);
  });

  it('selects several names with __name__ and keeps only the labels they share', () => {
    const both = either(metric(METRICS.eventsPublished), metric(METRICS.dlqDepth));
    expect(scope(['service', 'group', 'topic'])(both)).toBe(
      '{__name__=~"junction_events_published_total|junction_dlq_depth",service=~"$service",topic=~"$topic"}',
    );
  });

  it('ratio() and orZero() fall back to zero, not to nothing', () => {
    expect(ratio('rate(bad[1m])', 'rate(all[1m])', ['topic'])).toBe(
      '(sum by (topic) (rate(bad[1m])) or sum by (topic) (rate(all[1m])) * 0) / sum by (topic) (rate(all[1m]))',
    );
    expect(orZero('sum(x)')).toBe('(sum(x) or vector(0))');
  });
});

/**
 * Runs promtool on files written (as JSON, which YAML reads) into a temporary directory. promtool
 * comes with Debian's prometheus package, which `.ci/run` installs: without it these tests fail,
 * saying so, rather than skip.
 */
function promtool(args: string[], files: Record<string, unknown>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'junction-dashboards-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
    const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (run.error)
      throw new Error(`promtool could not run (${run.error.message}): install Debian's prometheus package (apt-get install prometheus)`);
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const asRules = (exprs: string[]) => ({
  groups: [{ name: 'dashboards', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }],
});

describe('the queries, read by Prometheus itself (promtool)', () => {
  const all = dashboards();
  const query = (uid: string, panelId: number, refId = 'A') => {
    const d = all.find((x) => x.uid === uid) as Dashboard;
    const found = panelQueries(d, { __rate_interval: '5m', __range: '10m' }).find((q) => q.panelId === panelId && q.refId === refId);
    if (!found) throw new Error(`${uid} has no panel ${panelId} query ${refId}`);
    return found.expr;
  };

  it('parses every panel query of every dashboard', () => {
    const exprs = all.flatMap((d) => panelQueries(d).map((q) => q.expr));
    const { status, output } = promtool(['check', 'rules', 'rules.json'], { 'rules.json': asRules(exprs) });
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('refuses a broken query, so the check above means something', () => {
    const { status, output } = promtool(['check', 'rules', 'rules.json'], { 'rules.json': asRules(['sum(rate(x[1m])']) });
    expect(output).toMatch(/parse error/);
    expect(status).not.toBe(0);
  });

  /** Evaluates `expr` (scaled by 10,000 and rounded, as promtool compares exactly) at 10m over `series` sampled each minute. */
  function evaluate(series: Record<string, string>, expr: string, expected: { labels: string; value: number }[]) {
    const test = {
      rule_files: [],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: Object.entries(series).map(([s, values]) => ({ series: s, values })),
          promql_expr_test: [{ expr: `round((${expr}) * 10000)`, eval_time: '10m', exp_samples: expected }],
        },
      ],
    };
    const { status, output } = promtool(['test', 'rules', 'test.json'], { 'test.json': test });
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  }

  it('error ratio is 0 without failures and the failed share with them', () => {
    const ok = 'junction_events_published_total{service="orders",topic="orders.order",outcome="ok"}';
    const failed = 'junction_events_published_total{service="orders",topic="orders.order",outcome="failed"}';
    evaluate({ [ok]: '0+60x20' }, query('junction-overview', 9), [{ labels: '{}', value: 0 }]);
    evaluate({ [ok]: '0+54x20', [failed]: '0+6x20' }, query('junction-overview', 9), [{ labels: '{}', value: 1000 }]);
  });

  it('dead-letter writes show 0 for a group and topic without any, and the rate for one with', () => {
    const consumed = (group: string) =>
      `junction_events_consumed_total{service="billing",group="${group}",topic="orders.order",outcome="ok"}`;
    const writes = 'junction_dlq_writes_total{service="billing",group="b",topic="orders.order"}';
    evaluate({ [consumed('a')]: '0+60x20', [consumed('b')]: '0+60x20', [writes]: '0+6x20' }, query('junction-overview', 11), [
      { labels: '{group="a",topic="orders.order"}', value: 0 },
      { labels: '{group="b",topic="orders.order"}', value: 1000 },
    ]);
  });

  it('the latency SLO counts requests within 250 ms over the range, and the budget what is left of 1%', () => {
    const h = (suffix: string, le = '') =>
      `junction_http_request_duration_seconds_${suffix}{service="gateway",method="GET",route="/orders/:id"${le ? `,le="${le}"` : ''}}`;
    const series = { [h('bucket', '0.25')]: '0+90x20', [h('bucket', '+Inf')]: '0+100x20', [h('count')]: '0+100x20' };
    evaluate(series, query('junction-http', 3), [{ labels: '{}', value: 9000 }]);
    // 10% slow against a 1% budget: nine budgets overspent
    evaluate(series, query('junction-http', 4), [{ labels: '{}', value: -90000 }]);
  });
});
