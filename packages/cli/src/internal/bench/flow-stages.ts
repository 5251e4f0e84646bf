import type { Queryable } from '@junction/events';

/**
 * One step of the order flow's confirmation path: `service` handles the previous step's event (the
 * first step handles the HTTP request) and writes `emits` to its outbox.
 */
export interface FlowStep {
  service: string;
  /** The event type this step writes, e.g. `com.junction.orders.OrderPlaced`. */
  emits: string;
}

/** The confirmation path of an order: orders places it, inventory reserves, billing captures, orders confirms. */
export const CONFIRMATION_PATH: readonly FlowStep[] = [
  { service: 'orders', emits: 'com.junction.orders.OrderPlaced' },
  { service: 'inventory', emits: 'com.junction.inventory.StockReserved' },
  { service: 'billing', emits: 'com.junction.billing.PaymentCaptured' },
];
/** Who takes the last step's event: the orders saga, which confirms. */
const CONFIRMED_BY = 'orders';

/** Where an order's time went between two points, over the orders of a window. */
export interface FlowStage {
  /** What happens in this stage, for a reader. */
  label: string;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

const shortType = (type: string) => type.slice(type.lastIndexOf('.') + 1);
const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a schema name: ${name}`);
  return name;
};
/** An event type as an SQL literal; a record fullname has no quote to escape. */
const typeLiteral = (type: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(type)) throw new Error(`not an event type: ${type}`);
  return `'${type}'`;
};

/**
 * The SQL that follows every order placed in [$1, $2) along `path` through the services' own
 * outbox and inbox tables: a step starts when its service's transaction began (the inbox row's
 * `processed_at`, or the outbox row's `created_at` for the first) and its event was made at the
 * outbox row's `event_time`; the next event is the one whose `causation-id` names this one.
 * Stages alternate: a service's work up to its event, then the way to the next service (relay,
 * Kafka, the consumer's fetch and its queue). The last stage ends where `confirmedBy` began the
 * transaction that confirms.
 */
export function stagesQuery(path: readonly FlowStep[], confirmedBy: string): string {
  const [first, ...rest] = path;
  if (!first) throw new Error('a flow path has at least one step');
  const ctes = [
    `s0 AS (SELECT event_id AS e0, created_at AS start0, event_time AS out0 FROM ${ident(first.service)}.junction_outbox
              WHERE event_type = ${typeLiteral(first.emits)} AND created_at >= $1 AND created_at < $2)`,
  ];
  rest.forEach((step, i) => {
    const [n, p] = [i + 1, i];
    const schema = ident(step.service);
    ctes.push(`s${n} AS (SELECT s${p}.*, i.processed_at AS start${n}, o.event_time AS out${n}, o.event_id AS e${n}
      FROM s${p} JOIN ${schema}.junction_inbox i ON i.event_id = s${p}.e${p}::text
      JOIN ${schema}.junction_outbox o ON o.headers->>'causation-id' = s${p}.e${p}::text AND o.event_type = ${typeLiteral(step.emits)})`);
  });
  const last = path.length - 1;
  const end = path.length;
  ctes.push(`s${end} AS (SELECT s${last}.*, i.processed_at AS start${end}
      FROM s${last} JOIN ${ident(confirmedBy)}.junction_inbox i ON i.event_id = s${last}.e${last}::text)`);
  const spans: string[] = [];
  for (let n = 0; n <= last; n += 1) {
    spans.push(`out${n} - start${n}`, `start${n + 1} - out${n}`);
  }
  const columns = spans.flatMap((span, k) => {
    const ms = `extract(epoch FROM (${span})) * 1000`;
    return [
      `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${ms}) AS p50_${k}`,
      `percentile_cont(0.99) WITHIN GROUP (ORDER BY ${ms}) AS p99_${k}`,
      `avg(${ms}) AS mean_${k}`,
    ];
  });
  return `WITH ${ctes.join(',\n')}
SELECT count(*)::int AS orders, ${columns.join(',\n  ')} FROM s${end}`;
}

/** What each stage is, in the order of {@link stagesQuery}'s spans. */
export function stageLabels(path: readonly FlowStep[], confirmedBy: string): string[] {
  return path.flatMap((step, n) => {
    const next = path[n + 1]?.service ?? confirmedBy;
    const work =
      n === 0
        ? `${step.service}: the request's transaction until ${shortType(step.emits)}`
        : `${step.service}: handling until ${shortType(step.emits)}`;
    return [work, `${shortType(step.emits)} to ${next} (relay, Kafka, fetch, queue)`];
  });
}

/**
 * Where the placed→confirmed time of the orders placed in [from, to) went, stage by stage, read
 * from the services' outbox and inbox tables (the orders followed are those confirmed). Undefined
 * when no order of the window went the whole way.
 */
export async function flowStages(
  db: Queryable,
  window: { from: Date; to: Date },
  path: readonly FlowStep[] = CONFIRMATION_PATH,
  confirmedBy = CONFIRMED_BY,
): Promise<{ orders: number; stages: FlowStage[] } | undefined> {
  const { rows } = await db.query(stagesQuery(path, confirmedBy), [window.from, window.to]);
  const row = rows[0] as Record<string, number | null> & { orders: number };
  if (!row || row.orders === 0) return undefined;
  const stages = stageLabels(path, confirmedBy).map((label, k) => ({
    label,
    p50Ms: Number(row[`p50_${k}`]),
    p99Ms: Number(row[`p99_${k}`]),
    meanMs: Number(row[`mean_${k}`]),
  }));
  return { orders: row.orders, stages };
}
