import { datasourceVariable, queryVariable, type Variable } from './grafana.ts';
import { type Series, scope } from './promql.ts';

const LABELS: Record<string, string> = {
  namespace: 'Namespace',
  service: 'Service',
  group: 'Consumer group',
  topic: 'Topic',
  route: 'Route',
};

/**
 * The dashboard's variables: `datasource`, then one per name in `names` (namespace and service first),
 * each listing the values of its label on `source` (or on `sources[name]`) within the values picked
 * before it, so choosing a namespace narrows the services offered, a service its groups, and so on.
 */
export function variables(source: Series, names: readonly string[], sources: Record<string, Series> = {}): Variable[] {
  if (names[0] !== 'namespace' || names[1] !== 'service') throw new Error('every Junction dashboard filters by namespace, then service');
  return [
    datasourceVariable(),
    ...names.map((name, i) => {
      const label = LABELS[name];
      if (!label) throw new Error(`no label text for the variable ${name}`);
      return queryVariable(name, label, `label_values(${scope(names.slice(0, i))(sources[name] ?? source)}, ${name})`);
    }),
  ];
}
