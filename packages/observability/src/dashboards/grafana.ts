/**
 * A small typed builder for Grafana's dashboard JSON model (schema 39, Grafana 10+): just the
 * panels, queries and variables Junction's dashboards use, with the options that make them readable
 * set once here instead of in every panel.
 */

/** Every panel queries the Prometheus picked in the `datasource` variable, so one file serves any Grafana. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, read by Grafana, not by JavaScript
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** A Grafana unit id. */
export type Unit = 'ops' | 's' | 'short' | 'percentunit' | 'bytes' | 'none';

/** One threshold step: the colour from `value` upwards (`null`: from minus infinity). */
export interface Step {
  color: string;
  value: number | null;
}

/** Neutral thresholds, for quantities with no good or bad value of their own (throughput, counts). */
export const neutral = (): Step[] => [{ color: 'blue', value: null }];
/** Green, orange from `amber`, red from `red`: for quantities where more is worse (lag, latency, errors). */
export const above = (amber: number, red: number): Step[] => [
  { color: 'green', value: null },
  { color: 'orange', value: amber },
  { color: 'red', value: red },
];
/** Red, orange from `amber`, green from `green`: for quantities where less is worse (SLO good ratio, targets up). */
export const below = (amber: number, green: number): Step[] => [
  { color: 'red', value: null },
  { color: 'orange', value: amber },
  { color: 'green', value: green },
];

/** One PromQL query of a panel; `instant` asks for the latest value only (tables). */
export interface Query {
  expr: string;
  legend?: string;
  instant?: boolean;
}

/** Text and colour shown for an exact value (the circuit breaker's 0/1/2, `up`'s 0/1). */
export type ValueText = Record<number, { text: string; color: string }>;

/** What every panel says: the builder turns it into Grafana's JSON. */
export interface PanelSpec {
  /** Stable: links and annotations name panels by id, so never renumber. */
  id: number;
  title: string;
  /** What the panel shows and what a bad value means, for the SRE on call. */
  description: string;
  unit: Unit;
  thresholds: Step[];
  queries: Query[];
  /** Grid width of 24; height in grid rows. */
  width?: number;
  height?: number;
  min?: number;
  max?: number;
  decimals?: number;
  /** Stack the series (parts of one whole, e.g. outcomes). */
  stack?: boolean;
  values?: ValueText;
  /** Table only: the header of the value column. */
  valueName?: string;
  /** Table only: rows by value, highest first unless `asc` (when low is bad, as for `up`). */
  sort?: 'asc' | 'desc';
}

/** A panel as the layout sees it, before it has a place on the grid. */
export interface PanelDraft {
  json: Record<string, unknown>;
  width: number;
  height: number;
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(spec: PanelSpec, format: 'time_series' | 'table') {
  return spec.queries.map((q, i) => ({
    refId: REF_IDS[i] ?? `Q${i}`,
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.instant,
    instant: q.instant === true,
    format,
  }));
}

function mappings(values?: ValueText) {
  if (!values) return [];
  const options = Object.fromEntries(Object.entries(values).map(([value, v], index) => [value, { ...v, index }]));
  return [{ type: 'value', options }];
}

function defaults(spec: PanelSpec, color: string, custom?: Record<string, unknown>) {
  return {
    unit: spec.unit,
    thresholds: { mode: 'absolute', steps: spec.thresholds },
    color: { mode: color },
    mappings: mappings(spec.values),
    ...(spec.min === undefined ? {} : { min: spec.min }),
    ...(spec.max === undefined ? {} : { max: spec.max }),
    ...(spec.decimals === undefined ? {} : { decimals: spec.decimals }),
    ...(custom ? { custom } : {}),
  };
}

const base = (spec: PanelSpec, type: string) => ({
  id: spec.id,
  type,
  title: spec.title,
  description: spec.description,
  datasource: DATASOURCE,
});

const reduce = { calcs: ['lastNotNull'], fields: '', values: false };

/** A time series graph; thresholds with more than one step are drawn as dashed lines. */
export function timeseries(spec: PanelSpec): PanelDraft {
  const custom = {
    drawStyle: 'line',
    lineWidth: 1,
    fillOpacity: spec.stack ? 30 : 10,
    gradientMode: 'none',
    showPoints: 'never',
    spanNulls: false,
    axisSoftMin: 0,
    stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
    thresholdsStyle: { mode: spec.thresholds.length > 1 ? 'dashed' : 'off' },
  };
  const json = {
    ...base(spec, 'timeseries'),
    fieldConfig: { defaults: defaults(spec, 'palette-classic', custom), overrides: [] },
    options: {
      legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targets(spec, 'time_series'),
  };
  return { json, width: spec.width ?? 12, height: spec.height ?? 8 };
}

/** One big number (the latest value) coloured by its thresholds, with a sparkline. */
export function stat(spec: PanelSpec): PanelDraft {
  const json = {
    ...base(spec, 'stat'),
    fieldConfig: { defaults: defaults(spec, 'thresholds'), overrides: [] },
    options: {
      reduceOptions: reduce,
      colorMode: 'background',
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
    },
    targets: targets(spec, 'time_series'),
  };
  return { json, width: spec.width ?? 6, height: spec.height ?? 5 };
}

/** A dial between `min` and `max` with the thresholds on its rim. */
export function gauge(spec: PanelSpec): PanelDraft {
  if (spec.min === undefined || spec.max === undefined) throw new Error(`gauge ${spec.title} needs min and max`);
  const json = {
    ...base(spec, 'gauge'),
    fieldConfig: { defaults: defaults(spec, 'thresholds'), overrides: [] },
    options: { reduceOptions: reduce, orientation: 'auto', showThresholdLabels: false, showThresholdMarkers: true },
    targets: targets(spec, 'time_series'),
  };
  return { json, width: spec.width ?? 6, height: spec.height ?? 5 };
}

/** The latest value of each series as a table row, labels as columns. */
export function table(spec: PanelSpec): PanelDraft {
  if (spec.queries.length !== 1) throw new Error(`table ${spec.title} takes one query (its value column is "Value")`);
  const valueName = spec.valueName ?? 'Value';
  const custom = { align: 'auto', cellOptions: { type: 'color-text' }, inspect: false };
  const json = {
    ...base(spec, 'table'),
    fieldConfig: { defaults: defaults(spec, 'thresholds', custom), overrides: [] },
    options: {
      showHeader: true,
      cellHeight: 'sm',
      sortBy: [{ displayName: valueName, desc: spec.sort !== 'asc' }],
      footer: { show: false, reducer: ['sum'], fields: '', countRows: false },
    },
    targets: targets({ ...spec, queries: spec.queries.map((q) => ({ ...q, instant: true })) }, 'table'),
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true, __name__: true }, renameByName: { Value: valueName } } }],
  };
  return { json, width: spec.width ?? 12, height: spec.height ?? 8 };
}

/** A full-width heading that groups the panels below it. */
export function row(id: number, title: string): PanelDraft {
  return { json: { id, type: 'row', title, collapsed: false, panels: [] }, width: 24, height: 1 };
}

/** The `datasource` variable: which Prometheus every panel queries. */
export function datasourceVariable() {
  return {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
    skipUrlSync: false,
  };
}

/**
 * A multi-value variable filled by a PromQL `label_values(…)` query; "All" is `.*` (not the list of
 * values) so the queries' `=~"$var"` matchers also match series that lack the label.
 */
export function queryVariable(name: string, label: string, query: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0,
    includeAll: true,
    allValue: '.*',
    multi: true,
    options: [],
    refresh: 2,
    regex: '',
    sort: 1,
    skipUrlSync: false,
  };
}

/** A template variable as the dashboard model holds it. */
export type Variable = ReturnType<typeof datasourceVariable> | ReturnType<typeof queryVariable>;

/** Places panels left to right on Grafana's 24-column grid, wrapping when a row is full and before each heading. */
export function layout(drafts: readonly PanelDraft[]): Record<string, unknown>[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return drafts.map((draft) => {
    if (x + draft.width > 24 || (draft.json.type === 'row' && x > 0)) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const placed = { ...draft.json, gridPos: { h: draft.height, w: draft.width, x, y } };
    x += draft.width;
    rowHeight = Math.max(rowHeight, draft.height);
    return placed;
  });
}

/** What a dashboard file declares. */
export interface DashboardSpec {
  uid: `junction-${string}`;
  title: string;
  description: string;
  variables: Variable[];
  panels: PanelDraft[];
}

/** The Grafana JSON model of a dashboard. */
export function dashboardModel(spec: DashboardSpec): Record<string, unknown> {
  return {
    id: null,
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['junction'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    timezone: '',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    refresh: '30s',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        title: 'Junction dashboards',
        type: 'dashboards',
        tags: ['junction'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    templating: { list: spec.variables },
    panels: layout(spec.panels),
  };
}
