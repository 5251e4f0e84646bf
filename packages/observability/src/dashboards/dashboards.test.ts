import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, METRICS, type MetricSpec } from '../metric-names.ts';
import { labelValueProblems, metricNameProblem } from '../promql-check.ts';
import { type Dashboard, dashboards, panelQueries } from './index.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults: { unit?: string; thresholds?: { mode: string; steps: { color: string; value: number | null }[] } } };
  targets?: { refId: string; expr: string; legendFormat: string }[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

const all = dashboards();
const panelsOf = (d: Dashboard) => d.model.panels as Panel[];
const dataPanels = (d: Dashboard) => panelsOf(d).filter((p) => p.type !== 'row');
const variablesOf = (d: Dashboard) => (d.model.templating as { list: Variable[] }).list;
const exprsOf = (d: Dashboard) => dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
/** The queries of the dashboard's query variables (`label_values(…)`). */
const variableQueriesOf = (d: Dashboard) =>
  variablesOf(d)
    .filter((v) => v.type === 'query')
    .map((v) => (v.query as { query: string }).query);
const byName = new Map<string, MetricSpec>(Object.values(METRICS).map((m) => [m.name, m]));

/** The labels a series carries besides `namespace`, derived from the table, not from the generator. */
function labelsOf(name: string): string[] {
  if (name === 'up') return ['job', 'instance'];
  const scrape = ['job', 'instance', 'service'];
  if (/^(process|nodejs)_/.test(name)) return scrape;
  const base = byName.get(name) ?? byName.get(name.replace(/_(bucket|count|sum)$/, ''));
  if (!base) throw new Error(`unknown series ${name}`);
  return [...scrape, ...base.labels, ...(name.endsWith('_bucket') ? ['le'] : [])];
}

describe('dashboards()', () => {
  it('has the six dashboards, each with a junction- uid, a file named after it and the junction tag', () => {
    expect(all.map((d) => [d.file, d.uid])).toEqual([
      ['overview.json', 'junction-overview'],
      ['service.json', 'junction-service'],
      ['consumers.json', 'junction-consumers'],
      ['dead-letters.json', 'junction-dead-letters'],
      ['http.json', 'junction-http'],
      ['order-flow.json', 'junction-order-flow'],
    ]);
    for (const d of all) {
      expect(d.model).toMatchObject({ uid: d.uid, title: d.title, tags: ['junction'], schemaVersion: 39 });
      expect(JSON.parse(d.text)).toEqual(d.model);
    }
  });

  it('is the same every time: ids, layout and text do not depend on anything but the code', () => {
    expect(dashboards().map((d) => d.text)).toEqual(all.map((d) => d.text));
  });

  it.each(all.map((d) => [d.file, d] as const))(
    '%s: every data panel has a unit, ordered thresholds, a description and a query',
    (_, d) => {
      for (const panel of dataPanels(d)) {
        const where = `${d.file} panel ${panel.id} (${panel.title})`;
        expect(['timeseries', 'stat', 'gauge', 'table'], where).toContain(panel.type);
        expect(panel.fieldConfig?.defaults.unit, where).toMatch(/^\w+$/);
        const steps = panel.fieldConfig?.defaults.thresholds?.steps ?? [];
        expect(steps.length, where).toBeGreaterThan(0);
        expect(steps[0]?.value, where).toBeNull();
        const values = steps.slice(1).map((s) => s.value as number);
        expect(values, where).toEqual([...values].sort((a, b) => a - b));
        expect(new Set(values).size, where).toBe(values.length);
        expect(panel.description?.trim().length ?? 0, where).toBeGreaterThan(40);
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
        expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets?.length ?? 0, where).toBeGreaterThan(0);
      }
    },
  );

  it.each(all.map((d) => [d.file, d] as const))(
    '%s: panel ids are unique and panels sit on the 24-column grid without overlapping',
    (_, d) => {
      const panels = panelsOf(d);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      const taken = new Set<string>();
      for (const { gridPos: g, id } of panels) {
        expect(g.x + g.w, `panel ${id}`).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(taken.has(`${x},${y}`), `panel ${id} overlaps at ${x},${y}`).toBe(false);
            taken.add(`${x},${y}`);
          }
      }
    },
  );

  it.each(all.map((d) => [d.file, d] as const))(
    '%s: datasource, namespace and service variables, the filters multi-value with All as .*',
    (_, d) => {
      const vars = variablesOf(d);
      expect(vars.slice(0, 3).map((v) => [v.name, v.type])).toEqual([
        ['datasource', 'datasource'],
        ['namespace', 'query'],
        ['service', 'query'],
      ]);
      expect(JSON.stringify(vars[2]?.query)).toContain('namespace=~\\"$namespace\\"');
      for (const v of vars.slice(1)) expect(v, v.name).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
    },
  );

  it.each(all.map((d) => [d.file, d] as const))('%s: every selector filters on each variable whose label its series carry', (_, d) => {
    const names = variablesOf(d)
      .slice(1)
      .map((v) => v.name);
    for (const expr of exprsOf(d)) {
      const selectors = [...expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)];
      expect(selectors.length, expr).toBeGreaterThan(0);
      for (const [, name = '', matchers = ''] of selectors) {
        const labels = ['namespace', ...labelsOf(name)];
        for (const v of names.filter((n) => labels.includes(n))) expect(matchers, `${name} in ${expr}`).toContain(`${v}=~"$${v}"`);
        for (const [, label] of matchers.matchAll(/(\w+)(?:=~|!~|!=|=)/g)) expect(labels, `${name} has no label ${label}`).toContain(label);
      }
    }
  });

  it('selects only metrics of the table, with _bucket/_count/_sum only on histograms', () => {
    const problems: string[] = [];
    const used = new Set<string>();
    for (const d of all)
      for (const expr of exprsOf(d))
        for (const [name] of expr.matchAll(/junction_[a-z0-9_]+/g)) {
          used.add(name);
          const problem = metricNameProblem(name);
          if (problem) problems.push(`${d.file}: ${problem}`);
        }
    expect(problems).toEqual([]);
    // a name missing from every dashboard is a metric nobody watches
    const watched = new Set([...used].map((n) => n.replace(/_(bucket|count|sum)$/, '')));
    expect(
      Object.values(METRICS)
        .filter((m) => !watched.has(m.name))
        .map((m) => m.name),
    ).toEqual([]);
  });

  it('matches only label values the table declares, in panel and variable queries', () => {
    const problems = all.flatMap((d) =>
      [...exprsOf(d), ...variableQueriesOf(d)].flatMap((e) => labelValueProblems(e).map((p) => `${d.file}: ${p}`)),
    );
    expect(problems).toEqual([]);
  });

  it('reads latency objectives off real bucket bounds', () => {
    const bounds = all.flatMap(exprsOf).flatMap((e) => [...e.matchAll(/le="([^"]*)"/g)].map((m) => Number(m[1])));
    expect(bounds.length).toBeGreaterThan(0);
    for (const bound of bounds) expect(LATENCY_BUCKETS as readonly number[]).toContain(bound);
  });

  it('has the panels the runbooks point at', () => {
    const titles = (uid: string) => dataPanels(all.find((d) => d.uid === uid) as Dashboard).map((p) => p.title);
    expect(titles('junction-overview')).toEqual(
      expect.arrayContaining([
        'Events published per topic',
        'Events consumed per topic',
        'Error ratio',
        'Worst consumer lag',
        'Scrape targets',
      ]),
    );
    expect(titles('junction-service')).toEqual(
      expect.arrayContaining(['Outbox rows pending', 'Oldest pending outbox row', 'Event loop lag p99', 'Metrics probes failing']),
    );
    expect(titles('junction-http')).toEqual(expect.arrayContaining(['5xx ratio', 'SLO: requests within 250 ms']));
    expect(titles('junction-order-flow')).toEqual(
      expect.arrayContaining(['Orders per second', 'Settled share (10 min)', 'Cancellations by reason', 'Worst consumer lag by group']),
    );
  });
});

describe('panelQueries()', () => {
  const balanced = (expr: string) => {
    const open: string[] = [];
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
      if ('([{'.includes(c)) open.push(c);
      else if (c in pairs && open.pop() !== pairs[c]) return false;
    }
    return open.length === 0;
  };

  it.each(all.map((d) => [d.file, d] as const))('%s: one query per target, balanced, with every variable substituted', (_, d) => {
    const queries = panelQueries(d);
    expect(queries).toHaveLength(exprsOf(d).length);
    for (const q of queries) {
      expect(q.expr, `panel ${q.panelId}`).not.toContain('$');
      expect(balanced(q.expr), q.expr).toBe(true);
    }
  });

  it('substitutes the given values, `.*` for the other variables and 1m for the rate interval', () => {
    const d = all.find((x) => x.uid === 'junction-consumers') as Dashboard;
    const [first] = panelQueries(d, { group: 'orders', __rate_interval: '30s' }).filter((q) => q.expr.includes('rate('));
    expect(first?.expr).toContain('group=~"orders"');
    expect(first?.expr).toContain('service=~".*"');
    expect(first?.expr).toContain('[30s]');
    expect(panelQueries(d).find((q) => q.expr.includes('rate('))?.expr).toContain('[1m]');
  });

  it('throws, naming the panel, when a query uses a variable it has no value for', () => {
    const d = all[0] as Dashboard;
    const model = structuredClone(d.model) as { panels: Panel[] };
    const target = model.panels.find((p) => p.targets?.length)?.targets?.[0];
    if (target) target.expr = 'sum(x{pod=~"$pod"})';
    expect(() => panelQueries({ ...d, model: model as unknown as Record<string, unknown> })).toThrow(/uses \$pod/);
  });
});
