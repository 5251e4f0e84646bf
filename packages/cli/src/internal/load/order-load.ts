import { randomUUID } from 'node:crypto';
import { loadClient } from './client.ts';

/** The seeded catalogue's SKUs and prices (services/inventory/migrations/002_catalogue.sql), rare ones left out. */
const CATALOGUE: ReadonlyArray<{ sku: string; unitPrice: string }> = [
  { sku: 'BOOK-0001', unitPrice: '12.50' },
  { sku: 'PEN-0042', unitPrice: '3.20' },
  { sku: 'SKU-LAMP', unitPrice: '19.99' },
  { sku: 'SKU-BULB', unitPrice: '4.50' },
  { sku: 'MUG-0007', unitPrice: '8.00' },
];

/** Options of {@link runOrderLoad}. */
export interface OrderLoadOptions {
  /** The gateway, e.g. `http://127.0.0.1:8080`. */
  gatewayUrl: string;
  /** A bearer token with orders:write and orders:read. */
  token: string;
  /** Orders per second, on average: arrivals are random (Poisson), as real customers are. */
  rate: number;
  /** Stop placing after this long… */
  durationMs: number;
  /** …or after this many orders, whichever comes first. */
  count?: number;
  /** Orders being placed at once, at most: an arrival beyond it is counted as dropped, not queued. */
  maxInFlight?: number;
  /** How long to wait, after the last order, for those still on their way. Default 30 s. */
  settleMs?: number;
  /** Told the figures once a second and at the end. */
  onTick?: (stats: LoadStats) => void;
  signal?: AbortSignal;
}

/** What a load run did so far. */
export interface LoadStats {
  placed: number;
  /** Arrivals not sent because `maxInFlight` orders were being placed already. */
  dropped: number;
  /** Orders the gateway refused for good (after bounded retries of 429/502/503). */
  refused: number;
  confirmed: number;
  cancelled: number;
  /** Placed, and neither confirmed nor cancelled yet. */
  pending: number;
  /** Placed→confirmed, in milliseconds, by the orders' own timestamps. */
  completionMs: number[];
  /** The first refusal's answer, to say why. */
  firstRefusal?: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A random order of one to three catalogue lines, its total exact. */
export function randomOrder(random: () => number = Math.random): Record<string, unknown> {
  const count = 1 + Math.floor(random() * 3);
  const lines = Array.from({ length: count }, () => {
    const item = CATALOGUE[Math.floor(random() * CATALOGUE.length)] ?? CATALOGUE[0];
    return { sku: item?.sku ?? 'BOOK-0001', quantity: 1 + Math.floor(random() * 2), unitPrice: item?.unitPrice ?? '12.50' };
  });
  const cents = lines.reduce((sum, line) => sum + Math.round(Number(line.unitPrice) * 100) * line.quantity, 0);
  return {
    customerId: randomUUID(),
    customerEmail: `shopper-${Math.floor(random() * 1e6)}@example.com`,
    shippingAddress: { line1: '1 Load Street', line2: null, city: 'London', postalCode: 'EC1A 1BB', country: 'GB' },
    lines,
    total: (cents / 100).toFixed(2),
    currency: 'EUR',
    couponCode: null,
  };
}

/**
 * Places orders through the gateway at a random (Poisson) rate for a bounded time or count, each
 * with its own Idempotency-Key (a retry after a 429/502/503 reuses it, at most three times), and
 * follows them to confirmed or cancelled. Stops by itself; `signal` stops it early.
 */
export async function runOrderLoad(options: OrderLoadOptions): Promise<LoadStats> {
  const stats: LoadStats = { placed: 0, dropped: 0, refused: 0, confirmed: 0, cancelled: 0, pending: 0, completionMs: [] };
  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  const pending = new Set<string>();
  const maxInFlight = options.maxInFlight ?? 64;
  // Placements on their way: at most maxInFlight, each removed once settled.
  const placing = new Set<Promise<void>>();
  const client = loadClient(options.gatewayUrl);

  const place = async () => {
    const key = `load-${randomUUID()}`;
    const body = JSON.stringify(randomOrder());
    for (let attempt = 0; ; attempt += 1) {
      const response = await client
        .send('POST', '/v1/orders', { ...headers, 'idempotency-key': key }, body, 10_000)
        .catch((error: Error) => error);
      if (!(response instanceof Error) && (response.status === 201 || response.status === 200)) {
        const { orderId } = JSON.parse(response.body) as { orderId: string };
        stats.placed += 1;
        pending.add(orderId);
        return;
      }
      const transient = response instanceof Error || [429, 502, 503].includes(response.status);
      if (!transient || attempt >= 3) {
        stats.refused += 1;
        stats.firstRefusal ??= response instanceof Error ? response.message : `${response.status} ${response.body}`;
        return;
      }
      const retryAfter = response instanceof Error ? 0 : Number(response.headers['retry-after'] ?? 0) * 1000;
      await sleep(Math.min(2000, Math.max(retryAfter, 200 * 2 ** attempt)));
    }
  };

  /**
   * Looks at every pending order (up to 2,000, the oldest first), 100 to a request, so that
   * following costs a few requests a second whatever the rate.
   */
  const follow = async () => {
    const ids = [...pending].slice(0, 2000);
    const batches = Array.from({ length: Math.ceil(ids.length / 100) }, (_, i) => ids.slice(i * 100, i * 100 + 100));
    await Promise.all(
      batches.map(async (batch) => {
        const query = batch.map((id) => `id=${id}`).join('&');
        const response = await client.send('GET', `/v1/orders?${query}`, headers, undefined, 5000).catch(() => undefined);
        if (response?.status !== 200) return;
        const { orders } = JSON.parse(response.body) as {
          orders: Array<{ orderId: string; status: string; placedAt: string; updatedAt: string }>;
        };
        for (const order of orders) {
          if (order.status === 'confirmed') {
            stats.confirmed += 1;
            stats.completionMs.push(Date.parse(order.updatedAt) - Date.parse(order.placedAt));
          } else if (order.status === 'cancelled') stats.cancelled += 1;
          else continue;
          pending.delete(order.orderId);
        }
      }),
    );
  };

  const started = Date.now();
  let nextArrival = started;
  let lastTick = started;
  let sent = 0;
  let following: Promise<void> | undefined;
  const tick = () => {
    stats.pending = pending.size;
    options.onTick?.({ ...stats, completionMs: [...stats.completionMs] });
  };
  while (!options.signal?.aborted && Date.now() - started < options.durationMs && (options.count === undefined || sent < options.count)) {
    const now = Date.now();
    if (now >= nextArrival) {
      sent += 1;
      if (placing.size >= maxInFlight) stats.dropped += 1;
      else {
        const placed: Promise<void> = place().finally(() => placing.delete(placed));
        placing.add(placed);
      }
      // Exponential gaps: a Poisson process of `rate` arrivals a second.
      nextArrival += (-Math.log(1 - Math.random()) / options.rate) * 1000;
    }
    if (now - lastTick >= 1000) {
      lastTick = now;
      // In the background: arrivals keep their times while the orders are looked at.
      following ??= follow()
        .then(tick)
        .finally(() => {
          following = undefined;
        });
    }
    await sleep(Math.max(0, Math.min(nextArrival - Date.now(), 50)), options.signal);
  }
  await Promise.all(placing);
  await following;
  const settleUntil = Date.now() + (options.settleMs ?? 30_000);
  while (pending.size > 0 && Date.now() < settleUntil && !options.signal?.aborted) {
    await follow();
    tick();
    if (pending.size > 0) await sleep(500, options.signal);
  }
  tick();
  client.close();
  return { ...stats, pending: pending.size };
}

/** The `p`-th percentile (0–100) of `values`, or undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
