import { Counter, Histogram, type Registry } from 'prom-client';
import { METRICS, type MetricSpec, metricOptions } from './metric-names.ts';
import type { Metrics } from './metrics.ts';

/**
 * The order flow's business KPIs, recorded by the orders service through typed calls: the label
 * values are a closed set (`reason`) or checked (`currency`), so a caller cannot grow the series
 * without bound. Only a process that asks for them exports them: a gateway has no orders to count.
 */

/** Why an order was cancelled, as the KPI counts it: a closed set, never the free text shown to people. */
export type OrderCancelReason = (typeof METRICS.ordersCancelled.values.reason)[number];

/** A confirmed order, as the revenue and latency KPIs need it. */
export interface ConfirmedOrder {
  /** The order's total in hundredths of its currency (the contracts' amounts have two places at most): 2820n for "28.20". */
  totalCents: bigint;
  /** ISO 4217, e.g. EUR. */
  currency: string;
  /** When the order was placed: the latency runs from here to now. */
  placedAt: Date;
}

/**
 * What the orders service records. Call each once the change it counts is committed, and only
 * when the order's state moved: a replayed request or a redelivered event must not count twice.
 */
export interface OrderKpis {
  /** A new order was committed. */
  placed(): void;
  /** An order reached confirmed: counted, its total added to its currency's revenue, its placed→confirmed time observed. */
  confirmed(order: ConfirmedOrder): void;
  /** An order was cancelled. */
  cancelled(reason: OrderCancelReason): void;
}

/** ISO 4217 codes this runtime knows (Intl's list); any other value is recorded as `other`. */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

function createOrderKpis(registry: Registry): OrderKpis {
  const spec = <S extends MetricSpec>(s: S) => metricOptions(s, registry);
  // Counters that alerts take increase() of exist at 0 from the start, so the first order after
  // a restart is an increase Prometheus can see.
  const placed = new Counter(spec(METRICS.ordersPlaced));
  const confirmed = new Counter(spec(METRICS.ordersConfirmed));
  const cancelled = new Counter(spec(METRICS.ordersCancelled));
  for (const reason of METRICS.ordersCancelled.values.reason) cancelled.inc({ reason }, 0);
  // Kept in exact hundredths and converted at scrape time: adding 0.1 a million times as a float drifts.
  const revenueCents = new Map<string, bigint>();
  new Counter({
    ...spec(METRICS.ordersRevenue),
    collect(this: Counter) {
      this.reset();
      for (const [currency, cents] of revenueCents) this.inc({ currency }, Number(cents) / 100);
    },
  });
  const latency = new Histogram({ ...spec(METRICS.ordersConfirmationDuration), buckets: [...METRICS.ordersConfirmationDuration.buckets] });

  return {
    placed: () => placed.inc(),
    confirmed(order) {
      confirmed.inc();
      const currency = CURRENCIES.has(order.currency) ? order.currency : 'other';
      revenueCents.set(currency, (revenueCents.get(currency) ?? 0n) + order.totalCents);
      latency.observe(Math.max(0, Date.now() - order.placedAt.getTime()) / 1000);
    },
    cancelled(reason) {
      // The type closes the set; this keeps a value cast past it from becoming a series.
      if (!METRICS.ordersCancelled.values.reason.includes(reason)) throw new Error(`not a cancellation reason: ${reason}`);
      cancelled.inc({ reason });
    },
  };
}

const byRegistry = new WeakMap<Registry, OrderKpis>();

/** The order KPIs of `metrics`' registry, registered there on first use (the same object afterwards). */
export function orderKpis(metrics: Pick<Metrics, 'registry'>): OrderKpis {
  let kpis = byRegistry.get(metrics.registry);
  if (!kpis) {
    kpis = createOrderKpis(metrics.registry);
    byRegistry.set(metrics.registry, kpis);
  }
  return kpis;
}
