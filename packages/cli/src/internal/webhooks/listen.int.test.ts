import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleEvent, until } from '@junction/events/testing';
import { type RunningGateway, startGateway } from '@junction/gateway';
import { notificationsService } from '@junction/notifications';
import { createLogger } from '@junction/observability';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { gatewayAccess } from '../../commands/webhooks.ts';
import { startTestAuthServer, type TestAuthServer } from '../../testing/auth-server.ts';
import { startCli } from '../../testing/cli.ts';
import { repositoryRoot } from '../paths.ts';
import { formatDelivery } from './format.ts';
import { startListener } from './listen.ts';
import type { CloudEventDocument, Delivery } from './receiver.ts';

const ORDER_PLACED = 'com.junction.orders.OrderPlaced';

/**
 * `webhooks listen` against the real parts: the notifications service on the test stack (its own
 * topics, database schema and consumer group), the auth server with services/auth/clients.yaml
 * (whose `downstream` client holds notifications:read and notifications:write) and the gateway
 * with only the notifications route, pointed at the service. The listener goes the CLI's way:
 * through the gateway, with the client's bearer token fetched as `./junction token` does.
 */
describe('webhooks listen, through the gateway to the notifications service', { timeout: 120_000 }, () => {
  let world: ServiceUnderTest;
  let auth: TestAuthServer;
  let gateway: RunningGateway;
  let scratch: string;

  beforeAll(async () => {
    world = await serviceUnderTest(notificationsService, {
      JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true',
      JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1',
      JUNCTION_NOTIFICATIONS_POLL_MS: '50',
    });
    auth = await startTestAuthServer();
    scratch = await mkdtemp(join(tmpdir(), 'junction-webhooks-listen-'));
    const table = parse(await readFile(join(repositoryRoot(), 'services/gateway/routes.yaml'), 'utf8')) as {
      routes: Array<{ name: string; upstream: string }>;
    };
    table.routes = table.routes.filter((route) => route.name === 'notifications');
    for (const route of table.routes) route.upstream = world.service.url;
    const routes = join(scratch, 'routes.yaml');
    await writeFile(routes, stringify(table));
    gateway = await startGateway({
      env: {
        ...process.env,
        JUNCTION_GATEWAY_PORT: '0',
        JUNCTION_GATEWAY_ROUTES: routes,
        JUNCTION_AUTH_ISSUER: auth.url,
        JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
      },
      logger: createLogger({ service: 'gateway', level: 'error' }),
      catalog: world.contracts.catalog,
    });
  }, 120_000);

  afterAll(async () => {
    await gateway?.shutdown();
    await auth?.stop();
    await world?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const access = (client = 'downstream') => gatewayAccess({ gateway: gateway.url, client, authUrl: auth.url, stateDir: auth.stateDir });
  /** A call through the gateway as `downstream`. */
  const call = async (method: string, path: string, body?: unknown) => {
    const headers = { ...(await access().headers()), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const response = await fetch(`${gateway.url}/v1${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const placed = async () => {
    const key = randomUUID();
    await world.publisher.publish(ORDER_PLACED, sampleEvent(ORDER_PLACED, key));
    return key;
  };

  it('prints the events it subscribed to, verified; answers a bad signature 401; a repeat is "again"; close deletes the subscription', async () => {
    const deliveries: Delivery[] = [];
    const listener = await startListener({
      api: access(),
      eventTypes: [ORDER_PLACED],
      ordered: true,
      port: 0,
      description: 'listen.int.test',
      onDelivery: (delivery) => deliveries.push(delivery),
    });
    try {
      expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const stored = await call('GET', `/notifications/subscriptions/${listener.subscriptionId}`);
      expect(stored).toMatchObject({
        status: 200,
        body: { url: listener.url, eventTypes: [ORDER_PLACED], ordered: true, description: 'listen.int.test', status: 'active' },
      });

      const keys = [await placed(), await placed(), await placed()];
      // Not subscribed to: never delivered.
      await world.publisher.publish('com.junction.orders.OrderCancelled', sampleEvent('com.junction.orders.OrderCancelled', keys[0]));
      const events = () => deliveries.filter((d): d is Extract<Delivery, { kind: 'event' }> => d.kind === 'event');
      await until(() => events().length >= keys.length, 60_000, 'three verified events');
      expect(
        events()
          .map((d) => d.event.subject)
          .sort(),
      ).toEqual([...keys].sort());
      for (const { webhookId, event } of events()) {
        expect(event).toMatchObject({ id: webhookId, type: expect.stringMatching(/^com\.junction\.orders\.OrderPlaced\.v\d+$/) });
        expect((event.data as { orderId?: string }).orderId).toBe(event.subject);
        const block = formatDelivery({ kind: 'event', webhookId, receivedAt: new Date(), event });
        expect(block).toContain(`  subject  ${String(event.subject)}`);
        expect(block).toContain(`"orderId": "${String(event.subject)}"`);
      }

      // Someone else's request, signed with another secret: refused, and shown.
      const forged = JSON.stringify({ id: randomUUID(), type: `${ORDER_PLACED}.v2`, data: {} } satisfies CloudEventDocument);
      const answer = await fetch(listener.url, {
        method: 'POST',
        body: forged,
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'forged-1',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': `v1,${Buffer.from('not the signature').toString('base64')}`,
        },
        signal: AbortSignal.timeout(5000),
      });
      expect(answer.status).toBe(401);
      expect(deliveries.find((d) => d.kind === 'rejected')).toMatchObject({ webhookId: 'forged-1', reason: 'No matching signature found' });

      // A replay sends the event again under the same webhook-id.
      const first = events()[0] as Extract<Delivery, { kind: 'event' }>;
      expect(
        await call('POST', `/notifications/subscriptions/${listener.subscriptionId}/replay`, { eventId: first.webhookId }),
      ).toMatchObject({
        status: 202,
      });
      await until(() => deliveries.some((d) => d.kind === 'again'), 30_000, 'the replayed event');
      expect(deliveries.find((d) => d.kind === 'again')).toMatchObject({ webhookId: first.webhookId });
    } finally {
      const outcome = await listener.close();
      expect(outcome).toEqual({ deleted: true, tally: { events: 3, again: 1, rejected: 1 } });
    }
    expect((await call('GET', `/notifications/subscriptions/${listener.subscriptionId}`)).status).toBe(404);
    // Closed: nobody answers there any more.
    await expect(fetch(listener.url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it('lists the fields the service refuses, and opens no subscription', async () => {
    const before = await call('GET', '/notifications/subscriptions');
    await expect(
      startListener({
        api: access(),
        eventTypes: ['com.junction.nothing.*'],
        ordered: false,
        port: 0,
        description: 'x',
        onDelivery: () => {},
      }),
    ).rejects.toMatchObject({
      code: 'request.unprocessable',
      message: expect.stringMatching(
        /^cannot create the subscription \(422\):\n {2}eventTypes\.0: com\.junction\.nothing\.\* matches no event/,
      ),
    });
    expect(await call('GET', '/notifications/subscriptions')).toEqual(before);
  });

  it('says which scope a client without notifications scopes lacks', async () => {
    await expect(
      startListener({ api: access('demo'), eventTypes: ['*'], ordered: false, port: 0, description: 'x', onDelivery: () => {} }),
    ).rejects.toMatchObject({
      code: 'auth.forbidden',
      message: expect.stringContaining('client demo may not create the subscription: its token lacks the scope notifications:write'),
    });
  });

  it('runs as ./junction webhooks listen: prints events, and on SIGINT deletes the subscription, counts and exits 0', async () => {
    const cli = startCli([
      'webhooks',
      'listen',
      '--events',
      'com.junction.orders.*',
      '--gateway',
      gateway.url,
      '--auth-url',
      auth.url,
      '--state-dir',
      auth.stateDir,
    ]);
    try {
      await cli.waitFor('Ctrl-C stops and deletes it', 30_000);
      const id = /subscription ([0-9a-f-]{36}) of client downstream/.exec(cli.output())?.[1] as string;
      expect(id).toBeDefined();
      expect(cli.output()).toMatch(/Listening on http:\/\/127\.0\.0\.1:\d+\/ for com\.junction\.orders\.\*/);
      const key = await placed();
      await cli.waitFor(`  subject  ${key}`, 60_000);
      expect(cli.output()).toMatch(/com\.junction\.orders\.OrderPlaced\.v\d+\n/);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      expect(cli.output()).toContain(`deleting subscription ${id}`);
      expect(cli.output()).toContain('1 event received (0 again, 0 refused)');
      expect((await call('GET', `/notifications/subscriptions/${id}`)).status).toBe(404);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
