import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthServer } from '@junction/auth';
import { type RunningGateway, startGateway } from '@junction/gateway';
import { createLogger } from '@junction/observability';
import { createStandin, type LedgerEntry } from '@junction/payment-provider-standin';
import { stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateContracts, until } from '../../packages/events/src/testing/contracts.ts';
import { clientToken, testAuthServer } from './auth.fixture.ts';
import { freePort, privateSchemas, ServiceProcess } from './fixtures/service-process.ts';

/**
 * The order flow end to end, as separate processes on the real stack: orders, inventory and
 * billing (each started from its own main, as `./junction up` does), the payment provider
 * stand-in failing a fifth of its calls, an auth server and the gateway in front. 300 orders go in
 * through the gateway while the inventory process is killed with SIGKILL and started again; then
 * the saga's invariants must hold.
 */
const ORDERS = 300;
const SKUS = ['BOOK-0001', 'PEN-0042', 'SKU-LAMP', 'SKU-BULB', 'MUG-0007', 'RARE-0001'];
const PRICES: Record<string, string> = {
  'BOOK-0001': '12.50',
  'PEN-0042': '3.20',
  'SKU-LAMP': '19.99',
  'SKU-BULB': '4.50',
  'MUG-0007': '8.00',
  'RARE-0001': '4999.00',
};

interface Item {
  sku: string;
  available: number;
  reserved: number;
}
interface Order {
  orderId: string;
  status: string;
  total: string;
  lines: Array<{ sku: string; quantity: number }>;
  history: Array<{ event: string; status: string }>;
}

describe('300 orders through the gateway, with a flaky provider and an inventory killed mid-run', { timeout: 300_000 }, () => {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  let scratch: string;
  let contracts: PrivateContracts;
  let provider: Server;
  let ledger: readonly LedgerEntry[];
  let auth: AuthServer;
  let gateway: RunningGateway;
  let token: string;
  const services: Record<string, ServiceProcess> = {};

  beforeAll(async () => {
    const postgres = process.env.JUNCTION_POSTGRES_URL;
    if (!postgres) throw new Error('this suite needs the stack PostgreSQL (JUNCTION_POSTGRES_URL)');
    scratch = await mkdtemp(join(tmpdir(), 'junction-flow-'));
    let schemas: string;
    ({ contracts, schemas } = await privateSchemas(scratch));

    const standin = createStandin({ latencyMs: 5, failureRate: 0.2, cardLimit: '5000.00' });
    ledger = standin.ledger;
    provider = createServer(standin.handle);
    await new Promise<void>((done) => provider.listen(0, '127.0.0.1', done));

    const env = {
      JUNCTION_KAFKA_BROKERS: brokers.join(','),
      JUNCTION_SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      JUNCTION_SCHEMAS_DIR: schemas,
      JUNCTION_POSTGRES_URL: postgres,
      JUNCTION_BILLING_PROVIDER_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
      LOG_LEVEL: 'warn',
    };
    for (const name of ['orders', 'inventory', 'billing']) {
      services[name] = new ServiceProcess(name, await freePort(), env, join(scratch, `${name}.log`));
    }
    await Promise.all(Object.values(services).map((service) => service.start()));

    const routes = join(scratch, 'routes.yaml');
    await writeFile(
      routes,
      `routes:\n  - name: orders\n    prefix: /v1/orders\n    upstream: ${services.orders?.url}\n    stripPrefix: /v1\n    timeoutMs: 5000\n    scopes:\n      GET: orders:read\n      POST: orders:write\n`,
    );
    auth = await testAuthServer(scratch, [{ id: 'shop', scopes: ['orders:write', 'orders:read'] }]);
    gateway = await startGateway({
      env: {
        ...env,
        JUNCTION_GATEWAY_PORT: '0',
        JUNCTION_GATEWAY_ROUTES: routes,
        JUNCTION_AUTH_ISSUER: auth.issuer,
        JUNCTION_GATEWAY_RATE_LIMIT_BURST: '2000',
        JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '2000',
        JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
      },
      logger: createLogger({ service: 'gateway', level: 'error' }),
      catalog: contracts.catalog,
    });
    token = await clientToken({ auth, stateDir: scratch, client: 'shop', scope: 'orders:write orders:read' });
  }, 240_000);

  afterAll(async () => {
    await gateway?.shutdown();
    await auth?.close();
    for (const service of Object.values(services)) await service.kill('SIGTERM');
    provider?.close();
    await contracts?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
  const stock = async (): Promise<Map<string, Item>> => {
    const { items } = (await (await fetch(`${services.inventory?.url}/inventory/items`)).json()) as { items: Item[] };
    return new Map(items.map((item) => [item.sku, item]));
  };

  it('ends every order confirmed or cancelled, conserves stock, charges no order twice, keeps each order in order, and counts each once in the KPIs', async () => {
    const before = await stock();
    const placed: string[] = [];
    let next = 0;
    const placeOne = async () => {
      const n = next++;
      // Now and then a line the stock cannot fill, or an order above the stand-in's card limit.
      const skus = n % 17 === 0 ? ['RARE-0001', 'PEN-0042'] : [SKUS[n % 5] as string, SKUS[(n + 2) % 5] as string];
      const lines = skus.map((sku, i) => ({ sku, quantity: 1 + ((n + i) % 3), unitPrice: PRICES[sku] as string }));
      const cents = lines.reduce((sum, l) => sum + Math.round(Number(l.unitPrice) * 100) * l.quantity, 0);
      const body = {
        customerId: randomUUID(),
        customerEmail: `customer${n}@example.com`,
        shippingAddress: { line1: '1 Test Street', city: 'London', postalCode: 'EC1A 1BB', country: 'GB' },
        lines,
        total: (cents / 100).toFixed(2),
        currency: 'EUR',
      };
      for (let attempt = 0; ; attempt += 1) {
        const response = await api('/orders', { method: 'POST', headers: { 'idempotency-key': `flow-${n}` }, body: JSON.stringify(body) });
        if (response.status === 201 || response.status === 200) {
          placed.push(((await response.json()) as { orderId: string }).orderId);
          return;
        }
        // The same key again after a refusal of the moment: the same order, never a second one.
        if (attempt >= 5 || response.status < 500) throw new Error(`order ${n}: ${response.status} ${await response.text()}`);
        await new Promise((wait) => setTimeout(wait, 200));
      }
    };
    let killed = false;
    const worker = async () => {
      while (next < ORDERS) {
        await placeOne();
        // Once, by whichever worker gets there first.
        if (!killed && next >= Math.floor(ORDERS / 3)) {
          killed = true;
          // Inventory dies mid-run, without a goodbye, and comes back: its inbox and offsets pick up.
          await services.inventory?.kill('SIGKILL');
          await services.inventory?.start();
        }
        // A customer changes their mind now and then, whatever the saga has reached.
        if (next % 23 === 0 && placed.length > 0) {
          await api(`/orders/${placed[placed.length - 1]}/cancel`, { method: 'POST', body: '{}' });
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(new Set(placed).size).toBe(ORDERS);

    const read = async (orderId: string) => (await (await api(`/orders/${orderId}`)).json()) as Order;
    // Read in batches (the gateway's client admits a bounded number of calls at once), and only
    // the orders not ended yet, once a second.
    const final = new Map<string, Order>();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const open = placed.filter((id) => !final.has(id));
      for (let i = 0; i < open.length; i += 16) {
        for (const order of await Promise.all(open.slice(i, i + 16).map(read))) {
          if (order.status === 'confirmed' || order.status === 'cancelled') final.set(order.orderId, order);
        }
      }
      if (final.size === placed.length) break;
      if (Date.now() > deadline) {
        const stuck = await Promise.all(placed.filter((id) => !final.has(id)).map(read));
        const payments = await Promise.all(
          stuck.map(
            async (o) =>
              `${o.orderId}: billing says ${await (await fetch(`${services.billing?.url}/billing/payments/${o.orderId}`)).text()}`,
          ),
        );
        const logs = await Promise.all(
          Object.values(services).map(async (s) =>
            (await readFile(join(scratch, `${s.name}.log`), 'utf8').catch(() => ''))
              .split('\n')
              .filter((l) => /"level":"(warn|error)"/.test(l))
              .slice(-5)
              .join('\n'),
          ),
        );
        throw new Error(
          `${stuck.length} order(s) neither confirmed nor cancelled after 120 s: ${JSON.stringify(stuck.map((o) => ({ id: o.orderId, status: o.status, history: o.history.map((h) => h.event) })))}\n${payments.join('\n')}\n${logs.join('\n')}`,
        );
      }
      await new Promise((wait) => setTimeout(wait, 1000));
    }
    // Settled: read every order once more, with its whole history.
    const orders: Order[] = [];
    for (let i = 0; i < placed.length; i += 16) orders.push(...(await Promise.all(placed.slice(i, i + 16).map(read))));

    // Stock conserved: what each SKU had is available or held, and held is what confirmed orders took.
    const after = await stock();
    const held = new Map<string, number>();
    for (const order of orders.filter((o) => o.status === 'confirmed')) {
      for (const line of order.lines) held.set(line.sku, (held.get(line.sku) ?? 0) + line.quantity);
    }
    for (const [sku, was] of before) {
      const now = after.get(sku);
      expect(now && now.available + now.reserved, sku).toBe(was.available + was.reserved);
      expect(now?.reserved, sku).toBe(was.reserved + (held.get(sku) ?? 0));
    }

    // No double charge: one capture per order at most; a capture belongs to a confirmed order or was refunded.
    const captures = ledger.filter((e) => e.kind === 'charge' && e.status === 'captured');
    expect(new Set(captures.map((c) => c.reference)).size).toBe(captures.length);
    const refunded = new Set(ledger.filter((e) => e.kind === 'refund').map((e) => e.reference));
    const status = new Map(orders.map((o) => [o.orderId, o.status]));
    for (const capture of captures) {
      if (status.get(capture.reference) !== 'confirmed') expect(refunded.has(capture.id), `capture of ${capture.reference}`).toBe(true);
    }
    for (const order of orders.filter((o) => o.status === 'confirmed')) {
      expect(
        captures.some((c) => c.reference === order.orderId),
        `payment of confirmed ${order.orderId}`,
      ).toBe(true);
    }

    // Each order's events applied in order: placed first, and never out of the saga's sequence.
    const rank: Record<string, number> = { placed: 0, reserved: 1, confirmed: 2, cancelled: 3 };
    for (const order of orders) {
      expect(order.history[0]?.event).toBe('OrderPlaced');
      const ranks = order.history.map((h) => rank[h.status] ?? -1);
      expect(ranks, order.orderId).toEqual([...ranks].sort((a, b) => a - b));
    }
    // The mix was exercised: some of each ending.
    expect(orders.some((o) => o.status === 'confirmed')).toBe(true);
    expect(orders.some((o) => o.status === 'cancelled')).toBe(true);

    // The KPIs count each order once, whatever was retried or redelivered on the way: what the
    // orders process exports is what the orders' histories say happened.
    const moves = (event: string, status: string) => orders.filter((o) => o.history.some((h) => h.event === event && h.status === status));
    const confirmed = orders.filter((o) => o.history.some((h) => h.status === 'confirmed'));
    const expected = {
      placed: ORDERS,
      confirmed: confirmed.length,
      timed: confirmed.length,
      revenueCents: confirmed.reduce((sum, o) => sum + Math.round(Number(o.total) * 100), 0),
      'stock-rejected': moves('StockRejected', 'cancelled').length,
      'payment-failed': moves('PaymentFailed', 'cancelled').length,
      customer: moves('OrderCancelled', 'cancelled').length,
    };
    expect(expected['stock-rejected'] + expected['payment-failed'] + expected.customer).toBe(
      orders.filter((o) => o.status === 'cancelled').length,
    );
    let exported: typeof expected | undefined;
    await until(
      async () => {
        const text = await (await fetch(`${services.orders?.url}/metrics`)).text();
        /** The sum of the samples of `series` whose labels include `label`. */
        const kpi = (series: string, label = '') =>
          text
            .split('\n')
            .filter((line) => (line.startsWith(`${series}{`) || line.startsWith(`${series} `)) && line.includes(label))
            .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
        exported = {
          placed: kpi('junction_orders_placed_total'),
          confirmed: kpi('junction_orders_confirmed_total'),
          timed: kpi('junction_orders_placed_to_confirmed_seconds_count'),
          revenueCents: Math.round(kpi('junction_orders_revenue_total', 'currency="EUR"') * 100),
          'stock-rejected': kpi('junction_orders_cancelled_total', 'reason="stock-rejected"'),
          'payment-failed': kpi('junction_orders_cancelled_total', 'reason="payment-failed"'),
          customer: kpi('junction_orders_cancelled_total', 'reason="customer"'),
        };
        return JSON.stringify(exported) === JSON.stringify(expected);
      },
      10_000,
      'the KPIs to match the orders',
    ).catch(() => {});
    expect(exported).toEqual(expected);
  });
});
