import { consumers } from './consumers.ts';
import { deadLetters } from './dead-letters.ts';
import { type DashboardSpec, dashboardModel } from './grafana.ts';
import { http } from './http.ts';
import { toJsonText } from './json.ts';
import { orderFlow } from './order-flow.ts';
import { overview } from './overview.ts';
import { service } from './service.ts';

/** One generated Grafana dashboard: its file under helm/junction/dashboards/, its JSON model and that file's text. */
export interface Dashboard {
  /** File name, e.g. `overview.json`. */
  file: string;
  uid: string;
  title: string;
  /** Grafana's dashboard JSON model. */
  model: Record<string, unknown>;
  /** The file's content: the model as formatted JSON with a trailing newline. */
  text: string;
}

const SOURCES: Record<string, () => DashboardSpec> = {
  'overview.json': overview,
  'service.json': service,
  'consumers.json': consumers,
  'dead-letters.json': deadLetters,
  'http.json': http,
  'order-flow.json': orderFlow,
};

/** Every Junction dashboard, generated from the metrics table. */
export function dashboards(): Dashboard[] {
  return Object.entries(SOURCES).map(([file, build]) => {
    const spec = build();
    const model = dashboardModel(spec);
    return { file, uid: spec.uid, title: spec.title, model, text: toJsonText(model) };
  });
}

/** One query of one panel, with the template variables replaced by values. */
export interface PanelQuery {
  panelId: number;
  panel: string;
  refId: string;
  expr: string;
}

interface ModelTarget {
  refId: string;
  expr: string;
}

/**
 * Every panel's PromQL as Prometheus would receive it: each template variable of the dashboard
 * becomes `.*` (Grafana's "All"), `$__rate_interval` becomes `1m` and `$__range` `1h`, unless
 * `vars` (keyed by name without `$`) says otherwise. Throws on a variable it has no value for, so
 * no query leaves with a `$` in it.
 */
export function panelQueries(dashboard: Dashboard, vars: Record<string, string> = {}): PanelQuery[] {
  const templating = dashboard.model.templating as { list: { name: string }[] };
  const values: Record<string, string> = {
    ...Object.fromEntries(templating.list.map((v) => [v.name, '.*'])),
    __rate_interval: '1m',
    __range: '1h',
    ...vars,
  };
  const panels = dashboard.model.panels as { id: number; title: string; targets?: ModelTarget[] }[];
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panelId: panel.id,
      panel: panel.title,
      refId: target.refId,
      expr: target.expr.replace(/\$(?:\{(\w+)\}|(\w+))/g, (whole, braced?: string, bare?: string) => {
        const value = values[braced ?? bare ?? ''];
        if (value === undefined) throw new Error(`${dashboard.file} panel ${panel.id} (${panel.title}) uses ${whole}, which has no value`);
        return value;
      }),
    })),
  );
}
