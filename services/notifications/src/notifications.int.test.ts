import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Publisher } from '@junction/events';
import { sampleEvent, until } from '@junction/events/testing';
import type { RunningService } from '@junction/service';
import { type ServiceUnderTest, serviceUnderTest } from '@junction/service/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsService } from './service.ts';

/** What a receiver got: each request's headers and body, in arrival order. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver: answers each request with `answer(headers)`, records them all. */
async function receiver(answer: (headers: IncomingHttpHeaders) => number = () => 200) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer(req.headers);
      res.end(res.statusCode >= 300 ? 'not now' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, close: () => server.close() };
}

/** A port that refuses connections: a server that listened there once and is closed. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hooks`;
}

describe('the notifications service, against the real stack', { timeout: 180_000 }, () => {
  let world: ServiceUnderTest;
  let service: RunningService;
  let publisher: Publisher;
  const receivers: Array<{ close(): void }> = [];

  beforeAll(async () => {
    world = await serviceUnderTest(notificationsService, {
      JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1',
      JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true',
      JUNCTION_NOTIFICATIONS_RETRY_INITIAL_MS: '50',
      JUNCTION_NOTIFICATIONS_RETRY_MULTIPLIER: '2',
      JUNCTION_NOTIFICATIONS_RETRY_MAX_MS: '200',
      JUNCTION_NOTIFICATIONS_MAX_ATTEMPTS: '50',
      JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS: '1500',
      JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS: '100',
      JUNCTION_NOTIFICATIONS_POLL_MS: '50',
      JUNCTION_NOTIFICATIONS_SECRET_OVERLAP_MS: '600000',
      JUNCTION_NOTIFICATIONS_MAX_SUBSCRIPTIONS: '5',
    });
    ({ service, publisher } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    for (const r of receivers) r.close();
  });

  const call = async (client: string, method: string, path: string, body?: unknown, scopes = 'notifications:read notifications:write') => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        'x-junction-client': client,
        'x-junction-scopes': scopes,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  const subscribe = async (client: string, body: Record<string, unknown>) => {
    const created = await call(client, 'POST', '/notifications/subscriptions', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; secret: string };
  };
  const outboxOf = async (subscriptionId: string) => {
    const { rows } = await service.context.db.query('SELECT event_type FROM junction_outbox WHERE key = $1 ORDER BY seq', [subscriptionId]);
    return (rows as Array<{ event_type: string }>).map((r) => r.event_type.replace('com.junction.notifications.', ''));
  };
  const orderEvents = async (orders: number, cancelled: boolean) => {
    const ids = Array.from({ length: orders }, () => randomUUID());
    for (const id of ids) {
      await publisher.publish('com.junction.orders.OrderPlaced', sampleEvent('com.junction.orders.OrderPlaced', id));
      if (cancelled) await publisher.publish('com.junction.orders.OrderCancelled', sampleEvent('com.junction.orders.OrderCancelled', id));
    }
    return ids;
  };

  it('keeps each client to its own subscriptions: another client gets 404 for every one of them', async () => {
    const hooks = await receiver();
    receivers.push(hooks);
    const mine = await subscribe('team-a', { url: hooks.url, eventTypes: ['com.junction.billing.*'] });
    expect(mine.secret).toMatch(/^whsec_/);
    for (const [method, path, body] of [
      ['GET', `/notifications/subscriptions/${mine.id}`],
      ['PATCH', `/notifications/subscriptions/${mine.id}`, { description: 'mine now' }],
      ['DELETE', `/notifications/subscriptions/${mine.id}`],
      ['GET', `/notifications/subscriptions/${mine.id}/attempts`],
      ['POST', `/notifications/subscriptions/${mine.id}/rotate-secret`],
      ['POST', `/notifications/subscriptions/${mine.id}/replay`, { eventId: randomUUID() }],
    ] as const) {
      const answer = await call('team-b', method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await call('team-b', 'GET', '/notifications/subscriptions')).body).toEqual({ subscriptions: [] });
    const read = await call('team-a', 'GET', `/notifications/subscriptions/${mine.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: mine.id, url: hooks.url, status: 'active', personalData: false });
    // The secret is shown at creation only.
    expect(JSON.stringify(read.body)).not.toContain('whsec_');
    // No body to PATCH is refused; an empty one changes nothing. A replay's range must move forward.
    expect((await call('team-a', 'PATCH', `/notifications/subscriptions/${mine.id}`)).status).toBe(400);
    expect((await call('team-a', 'PATCH', `/notifications/subscriptions/${mine.id}`, {})).body).toMatchObject({
      id: mine.id,
      status: 'active',
    });
    const backwards = await call('team-a', 'POST', `/notifications/subscriptions/${mine.id}/replay`, {
      since: '2026-12-07T10:00:00Z',
      until: '2026-12-07T09:00:00Z',
    });
    expect(backwards.status).toBe(422);
    expect(backwards.body.errors).toEqual([{ path: 'until', message: expect.stringMatching(/after since/) }]);
    expect((await call('team-a', 'DELETE', `/notifications/subscriptions/${mine.id}`)).status).toBe(204);
    expect((await call('team-a', 'GET', `/notifications/subscriptions/${mine.id}`)).status).toBe(404);
  });

  it('refuses bad subscriptions with a problem naming each field, and stores none of them', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ url: 'ftp://example.com/x', eventTypes: ['*'] }, 422, 'url'],
      [{ url: 'https://user:pw@example.com/x', eventTypes: ['*'] }, 422, 'url'],
      [{ url: 'not a url', eventTypes: ['*'] }, 422, 'url'],
      [{ url: 'https://example.com/x#frag', eventTypes: ['*'] }, 422, 'url'],
      [{ url: 'https://example.com/x', eventTypes: ['com.junction.orders.OrderPlacd'] }, 422, 'eventTypes.0'],
      [{ url: 'https://example.com/x', eventTypes: [] }, 400, 'eventTypes'],
      [{ url: 'https://example.com/x', eventTypes: ['orders placed'] }, 400, 'eventTypes.0'],
      [{ url: 'https://example.com/x', eventTypes: ['*'], secret: 'mine' }, 400, '(body)'],
    ];
    for (const [body, status, field] of cases) {
      const answer = await call('team-c', 'POST', '/notifications/subscriptions', body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(answer.body.errors), JSON.stringify(body)).toContain(`"${field}`);
    }
    expect((await call('team-c', 'GET', '/notifications/subscriptions')).body).toEqual({ subscriptions: [] });
    const five = await Promise.all(
      Array.from({ length: 6 }, () =>
        call('team-c', 'POST', '/notifications/subscriptions', { url: 'https://example.com/x', eventTypes: ['*'] }),
      ),
    );
    expect(five.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 201, 409]);
    for (const created of five.filter((a) => a.status === 201))
      await call('team-c', 'DELETE', `/notifications/subscriptions/${created.body.id}`);
  });

  it('delivers every event signed (Standard Webhooks), in key order where asked, with personal fields masked', async () => {
    const hooks = await receiver();
    receivers.push(hooks);
    const sub = await subscribe('team-d', { url: hooks.url, eventTypes: ['com.junction.orders.*'], ordered: true });
    const ids = await orderEvents(5, true);
    await until(async () => hooks.got.length >= 10, 60_000, '10 webhooks');
    const verifier = new Webhook(sub.secret);
    const events = hooks.got.map((r) => {
      expect(r.headers['content-type']).toBe('application/json');
      const verified = verifier.verify(r.body, r.headers as Record<string, string>) as Record<string, unknown>;
      expect(r.headers['webhook-id']).toBe(verified.id);
      return verified as { id: string; type: string; subject: string; data: Record<string, unknown> };
    });
    for (const id of ids) {
      const ofOrder = events.filter((e) => e.subject === id).map((e) => e.type.replace(/^com\.junction\.orders\./, ''));
      expect(ofOrder).toEqual(['OrderPlaced.v2', 'OrderCancelled.v1']);
    }
    const placed = events.find((e) => e.type.includes('OrderPlaced'));
    expect(placed?.data.customerEmail).toBe('[redacted]');
    expect(placed?.data.orderId).toBe(placed?.subject);
    await until(async () => (await outboxOf(sub.id)).length >= 10, 30_000, 'WebhookDelivered events');
    expect(new Set(await outboxOf(sub.id))).toEqual(new Set(['WebhookDelivered']));
    const attempts = await call('team-d', 'GET', `/notifications/subscriptions/${sub.id}/attempts?limit=100`);
    expect(attempts.body.attempts).toHaveLength(10);
    expect(attempts.body.attempts[0]).toMatchObject({ statusCode: 200, error: null, deliveryStatus: 'delivered', responseBody: 'ok' });
  });

  it('retries a flaky endpoint under the same webhook-id until it answers, and keeps a key in order meanwhile', async () => {
    // Refuses the first call of every webhook, accepts the second: half its calls fail.
    const seen = new Set<string>();
    const flaky = await receiver((headers) => {
      const id = String(headers['webhook-id']);
      if (seen.has(id)) return 200;
      seen.add(id);
      return 500;
    });
    receivers.push(flaky);
    await subscribe('team-e', { url: flaky.url, eventTypes: ['com.junction.orders.*'], ordered: true });
    const ids = await orderEvents(3, true);
    const calls = (id: string) => flaky.got.filter((r) => r.headers['webhook-id'] === id);
    const accepted = () => flaky.got.filter((r, n) => flaky.got.findIndex((o) => o.headers['webhook-id'] === r.headers['webhook-id']) < n);
    await until(async () => accepted().length >= 6, 60_000, 'six accepted webhooks');
    // Every event was refused once, then sent again under the same webhook-id, with the same body.
    for (const r of accepted()) {
      const both = calls(String(r.headers['webhook-id']));
      expect(both).toHaveLength(2);
      expect(both[0]?.body).toBe(both[1]?.body);
    }
    for (const id of ids) {
      const types = accepted()
        .map((r) => JSON.parse(r.body) as { subject: string; type: string })
        .filter((e) => e.subject === id)
        .map((e) => e.type.split('.').at(-2));
      expect(types).toEqual(['OrderPlaced', 'OrderCancelled']);
    }
  });

  it('disables an endpoint that keeps failing, and resumes where it stopped when enabled again', async () => {
    const url = await deadUrl();
    const sub = await subscribe('team-f', { url, eventTypes: ['com.junction.orders.OrderPlaced'] });
    const healthy = await receiver();
    receivers.push(healthy);
    await subscribe('team-g', { url: healthy.url, eventTypes: ['com.junction.orders.OrderPlaced'] });
    await orderEvents(3, false);
    // The dead endpoint does not hold the healthy one back.
    await until(async () => healthy.got.length >= 3, 30_000, 'the healthy endpoint served');
    await until(
      async () => (await call('team-f', 'GET', `/notifications/subscriptions/${sub.id}`)).body.status === 'disabled',
      30_000,
      'the dead endpoint disabled',
    );
    const disabled = (await call('team-f', 'GET', `/notifications/subscriptions/${sub.id}`)).body;
    expect(disabled.disabledReason).toMatch(/every attempt failed/);
    expect(await outboxOf(sub.id)).toContain('WebhookFailed');
    const attempts = (await call('team-f', 'GET', `/notifications/subscriptions/${sub.id}/attempts`)).body.attempts;
    expect(attempts[0]).toMatchObject({ statusCode: null, deliveryStatus: 'pending' });
    expect(attempts[0].error).toMatch(/refused/);
    // What an SRE sees: the endpoint disabled by failures, its backlog, attempts retried and delivered.
    const scraped = await (await fetch(`${service.url}/metrics`)).text();
    const value = (series: RegExp) => Number(series.exec(scraped)?.[1] ?? Number.NaN);
    expect(value(/^junction_webhook_endpoints\{state="disabled_by_failures"[^}]*\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(new RegExp(`^junction_webhook_backlog\\{subscription_id="${sub.id}"[^}]*\\} (\\S+)$`, 'm'))).toBe(3);
    expect(value(/^junction_webhook_attempts_total\{outcome="retried"[^}]*\} (\S+)$/m)).toBeGreaterThan(0);
    expect(value(/^junction_webhook_attempts_total\{outcome="delivered"[^}]*\} (\S+)$/m)).toBeGreaterThan(0);

    // The endpoint comes back at the same address; enabled again, it gets all three events.
    const port = Number(new URL(url).port);
    const got: string[] = [];
    const back = createServer((req, res) => {
      got.push(String(req.headers['webhook-id']));
      res.end();
    });
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    receivers.push(back);
    const enabled = await call('team-f', 'PATCH', `/notifications/subscriptions/${sub.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ status: 'active', disabledReason: null, failingSince: null });
    await until(async () => new Set(got).size >= 3, 30_000, 'the queued events after enabling');
  });

  it('sends personal fields in clear only to subscriptions whose owner holds the PII scope', async () => {
    const entitled = await receiver();
    const other = await receiver();
    receivers.push(entitled, other);
    const pii = await call(
      'team-i',
      'POST',
      '/notifications/subscriptions',
      { url: entitled.url, eventTypes: ['com.junction.orders.OrderPlaced'] },
      'notifications:read notifications:write notifications:pii',
    );
    expect(pii.body).toMatchObject({ personalData: true });
    await subscribe('team-j', { url: other.url, eventTypes: ['com.junction.orders.OrderPlaced'] });
    const [id] = await orderEvents(1, false);
    const sent = sampleEvent('com.junction.orders.OrderPlaced', id as string) as { customerEmail: string };
    await until(async () => entitled.got.length >= 1 && other.got.length >= 1, 30_000, 'both webhooks');
    const data = (r: Received) => (JSON.parse(r.body) as { data: Record<string, unknown> }).data;
    expect(data(entitled.got[0] as Received).customerEmail).toBe(sent.customerEmail);
    expect(data(other.got[0] as Received).customerEmail).toBe('[redacted]');
    // A change made with a token without the scope takes the right away.
    const changed = await call('team-i', 'PATCH', `/notifications/subscriptions/${pii.body.id}`, { description: 'no more PII' });
    expect(changed.body).toMatchObject({ personalData: false });
  });

  it('signs with both secrets during a rotation overlap', async () => {
    const hooks = await receiver();
    receivers.push(hooks);
    const sub = await subscribe('team-h', { url: hooks.url, eventTypes: ['com.junction.orders.OrderCancelled'] });
    const rotated = await call('team-h', 'POST', `/notifications/subscriptions/${sub.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(sub.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(500_000);
    await orderEvents(1, true);
    await until(async () => hooks.got.length >= 1, 30_000, 'a webhook');
    const [first] = hooks.got;
    if (!first) throw new Error('no webhook');
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [sub.secret, rotated.body.secret as string]) {
      expect(() => new Webhook(secret).verify(first.body, first.headers as Record<string, string>)).not.toThrow();
    }
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(first.body, first.headers as Record<string, string>),
    ).toThrow();
  });
});
