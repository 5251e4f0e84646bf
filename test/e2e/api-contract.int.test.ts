import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AuthServer } from '@junction/auth';
import { billingService } from '@junction/billing';
import { type RunningGateway, startGateway } from '@junction/gateway';
import { inventoryService } from '@junction/inventory';
import { notificationsService } from '@junction/notifications';
import { createLogger } from '@junction/observability';
import { ordersService } from '@junction/orders';
import { createStandin } from '@junction/payment-provider-standin';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { SCHEMATHESIS_VERSION, schemathesisCommand, stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type PrivateContracts, privateContracts } from '../../packages/events/src/testing/contracts.ts';
import { clientToken, testAuthServer } from './auth.fixture.ts';
import { OpenApiCheck } from './openapi-check.ts';

/**
 * The gateway's OpenAPI document held against the real servers: the gateway, the auth server,
 * orders, inventory and billing (on private topics of the test stack) and the payment stand-in,
 * with schemathesis fuzzing every operation the document describes. Bounded: a few examples per
 * operation, and a kill timer well inside CI's budget.
 */
const ROOT = resolve(import.meta.dirname, '../..');
/** schemathesis is stopped past this; a run here takes about a minute. */
const SCHEMATHESIS_DEADLINE_MS = 180_000;

interface Document {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>>;
}

describe('the gateway’s OpenAPI document, against the running servers', { timeout: 300_000 }, () => {
  let scratch: string;
  let contracts: PrivateContracts;
  let provider: Server;
  let auth: AuthServer;
  let gateway: RunningGateway;
  let token: string;
  const services: ServiceUnderTest[] = [];

  beforeAll(async () => {
    const { brokers, schemaRegistryUrl } = stackFromEnv();
    scratch = await mkdtemp(join(tmpdir(), 'junction-contract-'));
    contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
    const ordersTopic = contracts.catalog.topics.find((topic) => topic.name.startsWith('orders.order.'))?.name as string;
    provider = createServer(createStandin({ latencyMs: 0, failureRate: 0, cardLimit: '5000.00' }).handle);
    await new Promise<void>((done) => provider.listen(0, '127.0.0.1', done));
    const providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    services.push(await serviceUnderTest(ordersService, {}, contracts));
    services.push(await serviceUnderTest(inventoryService, {}, contracts));
    services.push(await serviceUnderTest(billingService, { JUNCTION_BILLING_PROVIDER_URL: providerUrl }, contracts));
    services.push(
      await serviceUnderTest(
        notificationsService,
        { JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true', JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1' },
        contracts,
      ),
    );
    const [orders, inventory, billing, notifications] = services.map((s) => s.service.url);

    // The real route table, each upstream pointed at the service under test.
    const table = parse(await readFile(join(ROOT, 'services/gateway/routes.yaml'), 'utf8')) as {
      routes: Array<{ name: string; upstream: string }>;
    };
    const upstreams: Record<string, string | undefined> = { orders, inventory, billing, notifications };
    table.routes = table.routes.filter((route) => upstreams[route.name]);
    for (const route of table.routes) route.upstream = upstreams[route.name] as string;
    const routes = join(scratch, 'routes.yaml');
    await writeFile(routes, stringify(table));

    const scopes = [
      `events:${ordersTopic}:write`,
      ...['orders', 'inventory', 'billing', 'notifications'].flatMap((s) => [`${s}:read`, `${s}:write`]),
    ];
    auth = await testAuthServer(scratch, [{ id: 'contract', scopes }]);
    gateway = await startGateway({
      env: {
        ...process.env,
        JUNCTION_GATEWAY_PORT: '0',
        JUNCTION_GATEWAY_ROUTES: routes,
        JUNCTION_AUTH_ISSUER: auth.issuer,
        // schemathesis sends hundreds of requests a second; the limits are not what is under test.
        JUNCTION_GATEWAY_RATE_LIMIT_BURST: '100000',
        JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '100000',
        JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST: '100000',
        JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND: '100000',
        JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
      },
      logger: createLogger({ service: 'gateway', level: 'error' }),
      catalog: contracts.catalog,
    });
    token = await clientToken({ auth, stateDir: scratch, client: 'contract', scope: scopes.join(' ') });
  }, 240_000);

  afterAll(async () => {
    await gateway?.shutdown();
    await auth?.close();
    for (const service of services) await service.close();
    provider?.close();
    await contracts?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const document = async (): Promise<Document> => (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as Document;

  it("shows each service's routes as the service describes them, not a generic forwarded entry", async () => {
    const paths = Object.keys((await document()).paths);
    for (const path of [
      '/v1/orders',
      '/v1/orders/{id}',
      '/v1/orders/{id}/cancel',
      '/v1/inventory/items',
      '/v1/inventory/items/{sku}',
      '/v1/billing/payments/{orderId}',
      '/v1/notifications/subscriptions',
      '/v1/notifications/subscriptions/{id}',
      '/v1/notifications/subscriptions/{id}/attempts',
    ])
      expect(paths).toContain(path);
    expect(paths.filter((path) => path.endsWith('/{path}'))).toEqual([]);
  });

  it("places the document's example order as it is, with a fresh Idempotency-Key: 201, as documented", async () => {
    const described = await document();
    const example = described.paths['/v1/orders']?.post?.requestBody?.content['application/json']?.example;
    expect(example).toBeDefined();
    const response = await fetch(`${gateway.url}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(example),
    });
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(201);
    expect(
      new OpenApiCheck(described as unknown as Record<string, unknown>).problems(
        'POST',
        response.url,
        201,
        response.headers.get('content-type'),
        body,
      ),
    ).toEqual([]);
  });

  it('answers a method a path does not declare with 405 and Allow', async () => {
    const send = (path: string, method: string) =>
      fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    for (const [path, method, allow] of [
      ['/healthz', 'POST', 'GET, HEAD'],
      ['/readyz', 'DELETE', 'GET, HEAD'],
      ['/v1/event-types', 'PUT', 'GET, HEAD'],
      ['/v1/events/com.junction.orders.OrderPlaced', 'GET', 'POST'],
      ['/v1/openapi.json', 'PATCH', 'GET, HEAD'],
      // Through the gateway: what the service declares for the path that the route table lets through.
      ['/v1/inventory/items', 'POST', 'GET'],
      ['/v1/orders/7', 'DELETE', 'GET'],
      ['/v1/orders', 'DELETE', 'POST, GET'],
    ] as const) {
      const answer = await send(path, method);
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
  });

  it(`finds no server error, undocumented status or header, or non-conforming body (schemathesis ${SCHEMATHESIS_VERSION})`, async () => {
    const st = await schemathesisCommand({ progress: (line) => process.stderr.write(`${line}\n`) });
    // A schema-valid request may still be a documented 422 where a key is taken: generated
    // Idempotency-Keys repeat ("0") with other bodies (idempotency.conflict). And an order's total
    // must be the sum of its lines, which no JSON Schema can say (request.unprocessable); nor
    // that a webhook URL is absolute and https, that an event type pattern matches an event, or
    // that a replay's range ends after it starts.
    const config = join(scratch, 'schemathesis.toml');
    await writeFile(
      config,
      [
        '[[operations]]',
        'include-operation-id-regex = "^(publish[A-Za-z]+|orders\\\\.placeOrder|notifications\\\\.(createSubscription|updateSubscription|replayDeliveries))$"',
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]',
        '',
      ].join('\n'),
    );
    const args = [
      '--config-file',
      config,
      '--no-color',
      'run',
      `${gateway.url}/v1/openapi.json`,
      '--checks',
      'all',
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      '40',
      // A fixed seed: the suite's verdict does not depend on the draw (JUNCTION_SCHEMATHESIS_SEED picks another).
      '--seed',
      process.env.JUNCTION_SCHEMATHESIS_SEED ?? '20261206',
      '--workers',
      '2',
      '--request-timeout',
      '15',
      '--header',
      `Authorization: Bearer ${token}`,
      '--report',
      'junit',
      '--report-junit-path',
      join(scratch, 'junit.xml'),
    ];
    const started = Date.now();
    const { code, output, killed } = await new Promise<{ code: number | null; output: string; killed: boolean }>((done, fail) => {
      const child = spawn(st, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, SCHEMATHESIS_DEADLINE_MS);
      child.once('error', fail);
      child.once('close', (exit) => {
        clearTimeout(timer);
        done({ code: exit, output: text, killed: timedOut });
      });
    });
    process.stderr.write(`schemathesis took ${Math.round((Date.now() - started) / 1000)} s\n`);
    expect(killed, `schemathesis ran past ${SCHEMATHESIS_DEADLINE_MS / 1000} s:\n${output}`).toBe(false);
    expect(code, `schemathesis found problems:\n${output}`).toBe(0);
    // The services' operations were among those tested, not only the gateway's own.
    const tested = await readFile(join(scratch, 'junit.xml'), 'utf8');
    for (const operation of [
      'POST /v1/orders',
      'GET /v1/orders/{id}',
      'POST /v1/orders/{id}/cancel',
      'GET /v1/inventory/items/{sku}',
      'GET /v1/billing/payments/{orderId}',
    ])
      expect(tested, operation).toContain(`name="${operation}"`);
  });
});
