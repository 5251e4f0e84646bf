import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisher, type Publisher } from '@junction/events';
import { sampleEvent } from '@junction/events/testing';
import { stackFromEnv } from '@junction/stack';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateContracts, until } from '../../packages/events/src/testing/contracts.ts';
import { freePort, privateSchemas, ServiceProcess } from './fixtures/service-process.ts';

/**
 * Webhooks end to end: the notifications service in a process of its own on the real stack, three
 * local receivers (healthy, failing half its calls, dead), events published to Kafka while the
 * notifications process is killed with SIGKILL and started again. Nothing accepted may be lost.
 */
const ORDERS = 40;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A local receiver answering with `answer(webhook-id, n-th call of that id)`; records every call. */
async function receiver(answer: (id: string, nth: number) => number) {
  const got: Received[] = [];
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const nth = (calls.get(id) ?? 0) + 1;
      calls.set(id, nth);
      const status = answer(id, nth);
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, close: () => server.close() };
}

describe('webhooks to three receivers while the notifications process is killed', { timeout: 300_000 }, () => {
  let scratch: string;
  let contracts: PrivateContracts;
  let notifications: ServiceProcess;
  let publisher: Publisher;
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    const postgres = process.env.JUNCTION_POSTGRES_URL;
    if (!postgres) throw new Error('this suite needs the stack PostgreSQL (JUNCTION_POSTGRES_URL)');
    const { brokers, schemaRegistryUrl } = stackFromEnv();
    scratch = await mkdtemp(join(tmpdir(), 'junction-webhooks-'));
    let schemas: string;
    ({ contracts, schemas } = await privateSchemas(scratch));
    notifications = new ServiceProcess(
      'notifications',
      await freePort(),
      {
        JUNCTION_KAFKA_BROKERS: brokers.join(','),
        JUNCTION_SCHEMA_REGISTRY_URL: schemaRegistryUrl,
        JUNCTION_SCHEMAS_DIR: schemas,
        JUNCTION_POSTGRES_URL: postgres,
        JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true',
        JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1',
        JUNCTION_NOTIFICATIONS_RETRY_INITIAL_MS: '100',
        JUNCTION_NOTIFICATIONS_RETRY_MULTIPLIER: '2',
        JUNCTION_NOTIFICATIONS_RETRY_MAX_MS: '400',
        JUNCTION_NOTIFICATIONS_MAX_ATTEMPTS: '100',
        JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS: '3000',
        JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS: '200',
        JUNCTION_NOTIFICATIONS_POLL_MS: '100',
        // A dispatcher killed mid-attempt holds its deliveries this long (the lease is connect +
        // attempt deadline + 30 s); short deadlines keep the restart's wait short.
        JUNCTION_NOTIFICATIONS_CONNECT_TIMEOUT_MS: '1000',
        JUNCTION_NOTIFICATIONS_ATTEMPT_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'warn',
      },
      join(scratch, 'notifications.log'),
    );
    await notifications.start();
    publisher = createPublisher({ service: 'test', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog: contracts.catalog });
  }, 240_000);

  afterAll(async () => {
    await publisher?.close();
    await notifications?.kill('SIGTERM');
    for (const close of closers) close();
    await contracts?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const subscribe = async (client: string, url: string, ordered: boolean) => {
    const response = await fetch(`${notifications.url}/notifications/subscriptions`, {
      method: 'POST',
      headers: { 'x-junction-client': client, 'content-type': 'application/json' },
      body: JSON.stringify({ url, eventTypes: ['com.junction.orders.*'], ordered }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; secret: string };
  };

  it('delivers every event to the healthy and the flaky endpoint, in key order where asked, loses none across a SIGKILL, and disables the dead one', async () => {
    const healthy = await receiver(() => 200);
    // Refuses every webhook's first call (500) and takes its second: half its calls fail.
    const flaky = await receiver((_id, nth) => (nth === 1 ? 500 : 200));
    closers.push(healthy.close, flaky.close);
    const deadPort = await freePort();
    const subs = {
      healthy: await subscribe('team-healthy', healthy.url, true),
      flaky: await subscribe('team-flaky', flaky.url, true),
      dead: await subscribe('team-dead', `http://127.0.0.1:${deadPort}/hooks`, false),
    };

    // Each order: OrderPlaced then OrderCancelled, the same key. The process is killed while they flow.
    const ids = Array.from({ length: ORDERS }, () => randomUUID());
    const published: string[] = [];
    const publishOrder = async (id: string) => {
      for (const type of ['com.junction.orders.OrderPlaced', 'com.junction.orders.OrderCancelled'] as const) {
        published.push((await publisher.publish(type, sampleEvent(type, id))).id);
      }
    };
    for (const id of ids.slice(0, ORDERS / 2)) await publishOrder(id);
    await until(async () => healthy.got.length >= 10, 60_000, 'the first webhooks');
    await notifications.kill('SIGKILL');
    for (const id of ids.slice(ORDERS / 2)) await publishOrder(id);
    await notifications.start();

    const delivered = (r: { got: Received[] }) =>
      new Set(r.got.filter((g) => g.status === 200).map((g) => String(g.headers['webhook-id'])));
    // On a timeout, say where the endpoint stands (a subscription disabled, or deliveries short).
    const status = async (id: string, client: string) =>
      (await (
        await fetch(`${notifications.url}/notifications/subscriptions/${id}`, {
          headers: { 'x-junction-client': client },
          signal: AbortSignal.timeout(10_000),
        })
      ).json()) as { status: string; disabledReason: string };
    const everyEvent = (name: string, r: { got: Received[] }, sub: { id: string }, client: string) =>
      until(async () => delivered(r).size === published.length, 120_000, `every event at the ${name} endpoint`).catch(
        async (error: Error) => {
          const known = JSON.stringify(await status(sub.id, client).catch((e: Error) => e.message));
          throw new Error(
            `${error.message}: ${delivered(r).size} of ${published.length} delivered, ${r.got.length} calls; subscription ${known}`,
          );
        },
      );
    await everyEvent('healthy', healthy, subs.healthy, 'team-healthy');
    await everyEvent('flaky', flaky, subs.flaky, 'team-flaky');
    expect(delivered(healthy)).toEqual(new Set(published));
    expect(delivered(flaky)).toEqual(new Set(published));

    for (const [name, r, secret] of [
      ['healthy', healthy, subs.healthy.secret],
      ['flaky', flaky, subs.flaky.secret],
    ] as const) {
      const verifier = new Webhook(secret);
      const accepted = r.got.filter((g) => g.status === 200);
      const events = accepted.map((g) => verifier.verify(g.body, g.headers as Record<string, string>) as { subject: string; type: string });
      // Per key, in order: OrderPlaced's delivery came before OrderCancelled's (a repeat after the
      // kill may add a second OrderPlaced, never a cancellation ahead of it).
      for (const id of ids) {
        const types = events.filter((e) => e.subject === id).map((e) => e.type.split('.').at(-2));
        expect(types[0], `${name} ${id}`).toBe('OrderPlaced');
        expect(types.lastIndexOf('OrderPlaced') < types.indexOf('OrderCancelled'), `${name} ${id}: ${types.join(',')}`).toBe(true);
      }
    }
    // The flaky endpoint saw each webhook refused once, then again under the same webhook-id and body.
    for (const id of published) {
      const calls = flaky.got.filter((g) => g.headers['webhook-id'] === id);
      expect(calls[0]?.status, id).toBe(500);
      expect(new Set(calls.map((c) => c.body)).size, id).toBe(1);
    }

    const dead = () => status(subs.dead.id, 'team-dead');
    await until(async () => (await dead()).status === 'disabled', 60_000, 'the dead endpoint disabled');
    expect((await dead()).disabledReason).toMatch(/every attempt failed/);
  });
});
