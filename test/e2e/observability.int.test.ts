import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { deadLetterTopic, eventContract, retryTopic } from '@junction/events';
import { dashboards, panelQueries } from '@junction/observability';
import { type PrometheusServer, prometheusAlerts, queryPrometheus, stackFromEnv, startPrometheus } from '@junction/stack';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type PrivateContracts, privateContracts, until } from '../../packages/events/src/testing/contracts.ts';
import { sampleEvent } from '../../packages/events/src/testing/samples.ts';
import { type ServiceUnderTest, serviceUnderTest } from '../../packages/service/src/testing/index.ts';
import { notificationsService } from '../../services/notifications/src/service.ts';
import { ordersService } from '../../services/orders/src/service.ts';

// The whole observability path, live: two instrumented processes (an HTTP API that publishes, a
// subscriber that fails some events into retries and the DLQ), the real orders service taking
// orders and following them to confirmed or cancelled (its business KPIs, for the order-flow
// dashboard), the real notifications service sending webhooks to a healthy and a dead receiver
// (its webhook metrics), a real Prometheus scraping them with the repository's alert rules, every dashboard
// query asked of it, and the spans of both processes received by a stand-in for a tracing backend
// (Jaeger, Tempo: outside our world).

const ROOT = resolve(import.meta.dirname, '../..');
const SHOP = resolve(import.meta.dirname, 'fixtures/shop.ts');
const EXAMPLE = join(ROOT, 'schemas/examples/order-placed.json');
const ALERTS_DIR = join(ROOT, 'helm/junction/alerts');
const ORDER = 'com.junction.orders.OrderPlaced';
const { brokers, schemaRegistryUrl } = stackFromEnv();

interface Shop {
  child: ChildProcess;
  port: number;
  lines: Record<string, unknown>[];
  raw: string[];
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
}

const SERVER_KIND = 2;

let contracts: PrivateContracts;
let topic: string;
let prometheus: PrometheusServer;
let collector: Server;
const spans: OtlpSpan[] = [];
const shops: Shop[] = [];
const group = `billing-${randomBytes(3).toString('hex')}`;
const failingOrder = randomUUID();
let trickle: Promise<void> | undefined;
let flow: ServiceUnderTest | undefined;
let flowTrickle: Promise<void> | undefined;
let webhooks: ServiceUnderTest | undefined;
let webhooksTrickle: Promise<void> | undefined;
let receiver: Server | undefined;
let stopped = false;

/** A stand-in tracing backend: takes OTLP/HTTP JSON exports and keeps the spans. */
async function startCollector(): Promise<number> {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
        resourceSpans?: {
          resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
          scopeSpans?: { spans?: Omit<OtlpSpan, 'service'>[] }[];
        }[];
      };
      for (const resource of body.resourceSpans ?? []) {
        const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
  return (collector.address() as AddressInfo).port;
}

/** Starts one role of the shop fixture and waits for its `ready <port>`. */
async function startShop(role: 'orders' | 'billing', collectorPort: number): Promise<Shop> {
  const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', SHOP], {
    env: {
      ...process.env,
      SHOP_ROLE: role,
      SHOP_PORT: '0',
      SHOP_SUFFIX: contracts.suffix,
      SHOP_GROUP: group,
      JUNCTION_KAFKA_BROKERS: brokers.join(','),
      JUNCTION_SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const shop: Shop = { child, port: 0, lines: [], raw: [] };
  shops.push(shop);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the ${role} fixture did not start within 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => fail(new Error(`the ${role} fixture exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      shop.raw.push(line);
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) {
        clearTimeout(timer);
        shop.port = Number(ready[1]);
        done(shop);
      } else if (line.startsWith('{')) {
        shop.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
  });
}

const post = (orders: Shop, query: string, body: Record<string, unknown>) =>
  fetch(`http://127.0.0.1:${orders.port}/orders${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });

/**
 * One order through the real orders service, settled as inventory and billing would settle it:
 * most confirmed, one in six each rejected for stock, failed at payment, or cancelled by the customer.
 */
async function settleOne(service: ServiceUnderTest, body: Record<string, unknown>, i: number): Promise<void> {
  const headers = { 'content-type': 'application/json', 'x-junction-client': 'shop' };
  const placed = await fetch(`${service.service.url}/orders`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': randomUUID() },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const { orderId } = (await placed.json()) as { orderId: string };
  const step = ['PaymentCaptured', 'PaymentCaptured', 'PaymentCaptured', 'StockRejected', 'PaymentFailed', 'cancel'][i % 6];
  if (step === 'cancel') {
    await fetch(`${service.service.url}/orders/${orderId}/cancel`, {
      method: 'POST',
      headers,
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
    return;
  }
  const type = `com.junction.${step === 'StockRejected' ? 'inventory' : 'billing'}.${step}`;
  await service.publisher.publish(type, sampleEvent(type, orderId));
}

/** The total of a query's samples, 0 when it has none. */
async function total(promql: string): Promise<number> {
  const samples = await queryPrometheus(prometheus.url, promql, { timeoutMs: 5000 });
  return samples.reduce((sum, s) => sum + s.value, 0);
}

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
  topic = eventContract(contracts.catalog, ORDER).topic;
  const collectorPort = await startCollector();
  const [billing, orders, ordersFlow, notifications] = await Promise.all([
    startShop('billing', collectorPort),
    startShop('orders', collectorPort),
    serviceUnderTest(ordersService),
    // Test values: retries every 200 ms, an endpoint disabled after 3 s of failures.
    serviceUnderTest(notificationsService, {
      JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true',
      JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1',
      JUNCTION_NOTIFICATIONS_RETRY_INITIAL_MS: '200',
      JUNCTION_NOTIFICATIONS_RETRY_MULTIPLIER: '1',
      JUNCTION_NOTIFICATIONS_MAX_ATTEMPTS: '100',
      JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS: '3000',
      JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS: '500',
      JUNCTION_NOTIFICATIONS_POLL_MS: '100',
    }),
  ]);
  flow = ordersFlow;
  webhooks = notifications;
  const flowTarget = { job: 'orders-service', targets: [new URL(ordersFlow.service.url).host] };
  const webhooksTarget = { job: 'notifications-service', targets: [new URL(notifications.service.url).host] };

  // Webhooks: a receiver that takes everything, and an endpoint where nothing listens (retried, then disabled).
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((done) => receiver?.listen(0, '127.0.0.1', done));
  const dead = createServer();
  await new Promise<void>((done) => dead.listen(0, '127.0.0.1', done));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((done) => dead.close(() => done()));
  for (const url of [`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, `http://127.0.0.1:${deadPort}/`]) {
    const created = await fetch(`${notifications.service.url}/notifications/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-junction-client': 'observability' },
      body: JSON.stringify({ url, eventTypes: [ORDER] }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(created.status).toBe(201);
  }
  prometheus = await startPrometheus({
    dir: await mkdtemp(join(tmpdir(), 'junction-prometheus-')),
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    ruleFiles: [join(ALERTS_DIR, '*.yaml')],
    targets: [
      { job: 'orders', targets: [`127.0.0.1:${orders.port}`] },
      { job: 'billing', targets: [`127.0.0.1:${billing.port}`] },
      flowTarget,
      webhooksTarget,
    ],
  });

  // Counters seen at 0 first, so that what follows is an increase, as in a service running for a while.
  await until(
    async () => (await total('sum(up{job=~"orders|billing|orders-service|notifications-service"})')) === 4,
    30_000,
    'Prometheus to scrape the four processes',
  );

  // An event a second for the webhooks, each sent to both endpoints.
  webhooksTrickle = (async () => {
    for (let i = 0; i < 1200 && !stopped; i += 1) {
      await notifications.publisher.publish(ORDER, sampleEvent(ORDER)).catch(() => {});
      await new Promise((done) => setTimeout(done, 1000));
    }
  })();

  // The order flow: an order every half second, each settled at once.
  const { orderId: _id, placedAt: _at, ...example } = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  flowTrickle = (async () => {
    for (let i = 0; i < 2400 && !stopped; i += 1) {
      await settleOne(ordersFlow, example, i).catch(() => {});
      await new Promise((done) => setTimeout(done, 500));
    }
  })();

  // Traffic: a steady trickle of orders, published directly and through the outbox (rates need
  // it: a burst before the first scrapes would read as no rate at all); one order the payment
  // provider keeps refusing (retry topic, then the DLQ); one whose broker is down (a 503); a
  // poison record; and, once those are dead letters, a second member joining the group.
  trickle = (async () => {
    for (let i = 0; i < 1200 && !stopped; i += 1) {
      await post(orders, i % 3 === 0 ? '?outbox=1' : '', {}).catch(() => {});
      await new Promise((done) => setTimeout(done, 250));
    }
  })();
  expect((await post(orders, '', { orderId: failingOrder, couponCode: 'FAIL' })).status).toBe(202);
  expect((await post(orders, '?dependency=down', {})).status).toBe(503);
  const producer = new Kafka({ clientId: 'poison', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'poison', value: Buffer.from('not avro at all'), headers: { ce_id: 'poison-1' } }] });
  await producer.disconnect();
  await until(
    async () => (await total(`sum(junction_dlq_writes_total{group="${group}"})`)) === 2,
    60_000,
    'Prometheus to see both dead letters',
  );
  const second = await startShop('billing', collectorPort);
  await prometheus.setTargets([
    { job: 'orders', targets: [`127.0.0.1:${orders.port}`] },
    { job: 'billing', targets: [`127.0.0.1:${billing.port}`, `127.0.0.1:${second.port}`] },
    flowTarget,
    webhooksTarget,
  ]);
  await until(async () => (await total(`sum(junction_rebalances_total{group="${group}"})`)) >= 1, 60_000, 'the group to rebalance');
}, 300_000);

afterAll(async () => {
  stopped = true;
  await Promise.all([trickle, flowTrickle, webhooksTrickle]);
  await flow?.close();
  await webhooks?.close();
  receiver?.close();
  await Promise.all(
    shops.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await prometheus?.stop();
  collector?.close();
  await contracts?.cleanup();
}, 60_000);

describe('observability end to end', () => {
  it('gives data for every query of every dashboard panel', async () => {
    const queries = dashboards().flatMap((dashboard) => panelQueries(dashboard).map((query) => ({ dashboard: dashboard.file, ...query })));
    expect(queries.length).toBeGreaterThan(30);
    // Rates need two scrapes of a series, so some panels fill a few seconds after the traffic;
    // a panel counts once it has shown data (a one-off, like a rebalance, leaves a 1 m rate window).
    let pending = queries;
    await until(
      async () => {
        const still: typeof queries = [];
        for (const query of pending) {
          const samples = await queryPrometheus(prometheus.url, query.expr, { timeoutMs: 5000 });
          if (!samples.some((s) => Number.isFinite(s.value))) still.push(query);
        }
        pending = still;
        return pending.length === 0;
      },
      60_000,
      'every panel to have data',
    ).catch(() => {});
    const empty = pending.map((query) => `${query.dashboard} #${query.panelId} ${query.panel} [${query.refId}]: ${query.expr}`);
    expect(empty, 'panels without data').toEqual([]);
  }, 120_000);

  it('counts the orders the real orders service takes and settles, and JunctionOrdersNotCompleting stays quiet', async () => {
    const kpi = (name: string) => total(`sum(${name}{job="orders-service"})`);
    await until(async () => (await kpi('junction_orders_confirmed_total')) >= 3, 60_000, 'confirmed orders in Prometheus');
    // Every order settles within moments: at a scrape, at most the few in flight are not (one
    // placed and one settled scrape apart would already be a gap of 1; a stuck order never closes it).
    let unsettled = Number.NaN;
    await until(
      async () => {
        const [placed = 0, confirmed = 0, cancelled = 0] = await Promise.all(
          ['junction_orders_placed_total', 'junction_orders_confirmed_total', 'junction_orders_cancelled_total'].map(kpi),
        );
        unsettled = placed - confirmed - cancelled;
        return unsettled >= 0 && unsettled <= 2;
      },
      30_000,
      'placed orders to be confirmed or cancelled',
    ).catch(() => {});
    expect(unsettled, 'orders placed and not settled').toBeGreaterThanOrEqual(0);
    expect(unsettled, 'orders placed and not settled').toBeLessThanOrEqual(2);
    const reasons = await queryPrometheus(prometheus.url, 'sum by (reason) (junction_orders_cancelled_total{job="orders-service"})', {
      timeoutMs: 5000,
    });
    expect(reasons.map((s) => s.metric.reason).sort()).toEqual(['customer', 'payment-failed', 'stock-rejected']);
    const stuck = (await prometheusAlerts(prometheus.url)).filter((alert) => alert.labels.alertname === 'JunctionOrdersNotCompleting');
    expect(stuck).toEqual([]);
  });

  it('disables the dead webhook endpoint, and JunctionWebhookEndpointDisabled takes it up with its runbook', async () => {
    const disabled = () => total('max(junction_webhook_endpoints{job="notifications-service",state="disabled_by_failures"})');
    await until(async () => (await disabled()) === 1, 60_000, 'Prometheus to see the dead endpoint disabled');
    expect(await total('sum(junction_webhook_endpoints{job="notifications-service",state="active"})')).toBe(1);
    // Its events queue while it is disabled: a backlog, and the age of its oldest.
    expect(await total('max(junction_webhook_backlog{job="notifications-service"})')).toBeGreaterThan(0);
    expect(
      await total('sum(increase(junction_webhook_attempts_total{job="notifications-service",outcome="delivered"}[1m]))'),
    ).toBeGreaterThan(0);
    let alerts: Awaited<ReturnType<typeof prometheusAlerts>> = [];
    await until(
      async () => {
        alerts = (await prometheusAlerts(prometheus.url)).filter((alert) => alert.labels.alertname === 'JunctionWebhookEndpointDisabled');
        return alerts.length > 0;
      },
      30_000,
      'JunctionWebhookEndpointDisabled to be pending',
    );
    // `for: 1m` keeps it pending at first; either way it names the service and its runbook.
    expect(['pending', 'firing']).toContain(alerts[0]?.state);
    expect(alerts[0]?.annotations.runbook_url).toBe('docs/runbooks/junction-webhook-endpoint-disabled.md');
  }, 120_000);

  it('fires the dead-letter alert, naming the group and topic, with its runbook', async () => {
    const rules = (await readdir(ALERTS_DIR)).filter((f) => f.endsWith('.yaml'));
    const dlqAlert = rules
      .flatMap(
        (file) =>
          (parse(readFileSync(join(ALERTS_DIR, file), 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups,
      )
      .flatMap((g) => g.rules)
      .find((rule) => rule.alert && rule.expr.includes('junction_dlq_writes_total'));
    expect(dlqAlert?.alert).toBeDefined();
    let firing: Awaited<ReturnType<typeof prometheusAlerts>> = [];
    await until(
      async () => {
        firing = (await prometheusAlerts(prometheus.url)).filter(
          (alert) => alert.labels.alertname === dlqAlert?.alert && alert.state === 'firing' && alert.labels.group === group,
        );
        return firing.length > 0;
      },
      90_000,
      `${dlqAlert?.alert} to fire`,
    );
    expect(firing[0]?.labels.topic).toBe(topic);
    expect(firing[0]?.annotations.runbook_url).toMatch(/docs\/runbooks\/.+\.md$/);
  }, 120_000);

  it('shows the failing order as one trace: HTTP request → publish → consume → retry → dead letter, across both processes', async () => {
    const names = [
      `send ${topic}`,
      `process ${topic}`,
      `send ${retryTopic(group, topic, 1)}`,
      `process ${retryTopic(group, topic, 1)}`,
      `send ${deadLetterTopic(group, topic)}`,
    ];
    let trace: OtlpSpan[] = [];
    await until(
      () => {
        // Only the failing order goes through the retry topic (the poison record goes straight to the DLQ).
        const retrySend = spans.find((s) => s.name === names[2]);
        trace = retrySend ? spans.filter((s) => s.traceId === retrySend.traceId) : [];
        return names.every((name) => trace.some((s) => s.name === name)) && trace.some((s) => s.kind === SERVER_KIND);
      },
      30_000,
      'the spans of the failing order',
    );
    const request = trace.find((s) => s.kind === SERVER_KIND);
    expect(request?.service).toBe('orders');
    const [send, process, toRetry, retried, toDlq] = names.map((name) => trace.find((s) => s.name === name) as OtlpSpan);
    // Each hop is the child of the one before, whichever process recorded it.
    expect(send?.service).toBe('orders');
    expect(process?.service).toBe('billing');
    const isChild = (child: OtlpSpan | undefined, parent: OtlpSpan | undefined) => child?.parentSpanId === parent?.spanId;
    // The publish happens inside the request (under the express route handler's span, itself under the request).
    expect(trace.filter((s) => s.service === 'orders').some((s) => isChild(send, s))).toBe(true);
    expect(isChild(process, send)).toBe(true);
    expect(isChild(toRetry, process)).toBe(true);
    expect(isChild(retried, toRetry)).toBe(true);
    expect(isChild(toDlq, retried)).toBe(true);
  });

  it('writes JSON log lines with the service, trace and event, and never a personal field in clear', () => {
    const [billing, orders] = shops;
    const charged = billing?.lines.find((line) => line.message === 'charging an order' && line.orderId === failingOrder);
    expect(charged).toMatchObject({ service: 'billing', level: 'info' });
    expect(charged?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof charged?.event_id).toBe('string');
    const placed = orders?.lines.find((line) => line.message === 'placing an order' && line.orderId === failingOrder);
    expect(placed?.customerEmail).toBe('[redacted]');
    // The request's trace is the one the subscriber's line carries: one id from HTTP to the handler.
    expect(placed?.trace_id).toBe(charged?.trace_id);
    for (const shop of shops) expect(shop.raw.join('\n')).not.toContain('ada@example.com');
  });
});
