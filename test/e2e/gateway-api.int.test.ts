import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sampleEvent, sampleOrderPlacedV1 } from '../../packages/events/src/testing/samples.ts';
import { gatewaySuite, ORDER } from './gateway.calls.ts';

// A real authorization server (oidc-provider) and the gateway, in this process, publishing to
// the test stack's Kafka and registry (a private copy of the topics). Its security (tokens,
// scopes, rate limits, route table, TLS) is gateway-security.int.test.ts.

const suite = gatewaySuite();

describe('publishing events over HTTP', () => {
  it('answers 202 with the event id once Kafka has the event, on the topic with its key', async () => {
    const order = sampleEvent(ORDER);
    const response = await suite.calls().publish(order);
    expect(response.status).toBe(202);
    const accepted = (await suite.calls().documentedJson(response)) as {
      id: string;
      type: string;
      topic: string;
      partition: number;
      offset: string;
    };
    expect(accepted).toMatchObject({ type: `${ORDER}.v2`, topic: suite.world().ordersTopic });
    const records = await suite.calls().ordersRecords();
    const record = records.find((r) => r.headers.ce_id === accepted.id) ?? expect.unreachable('the event is not on the topic');
    expect(record.key).toBe(order.orderId);
    expect(String(record.offset)).toBe(accepted.offset);
    expect(record.headers['junction.client-id']).toBe('demo');
    expect(record.headers.ce_source).toBe('/junction/gateway');
  });

  it('publishes an older version when the request names it', async () => {
    const response = await suite.calls().post(`/v1/events/${ORDER}?version=1`, {
      token: suite.calls().demo,
      body: sampleOrderPlacedV1(),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ type: `${ORDER}.v1` });
  });

  it('answers 400 naming every failing field path, and publishes nothing', async () => {
    const before = await suite.calls().ordersCount();
    const order = { ...sampleEvent(ORDER), total: 12.5, customerId: 'not-a-uuid', surprise: true } as Record<string, unknown>;
    delete order.currency;
    const body = await suite.calls().expectProblem(await suite.calls().publish(order), 400, 'event.invalid');
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['currency', 'customerId', 'surprise', 'total']);
    expect(body.errors?.find((e) => e.path === 'total')?.message).toMatch(/decimal string/);
    expect(await suite.calls().ordersCount()).toBe(before);
  });

  it('answers 400 for a body that is not JSON, 413 for one too large, 415 for another type', async () => {
    await suite
      .calls()
      .expectProblem(
        await suite.calls().post(`/v1/events/${ORDER}`, { token: suite.calls().demo, raw: '{"orderId":' }),
        400,
        'request.invalid',
      );
    const huge = { ...sampleEvent(ORDER), couponCode: 'x'.repeat(20_000) };
    const tooLarge = await suite.calls().expectProblem(await suite.calls().publish(huge), 413, 'request.too-large');
    expect(tooLarge.detail).toContain('16384');
    await suite
      .calls()
      .expectProblem(
        await suite
          .calls()
          .post(`/v1/events/${ORDER}`, { token: suite.calls().demo, raw: '<order/>', headers: { 'content-type': 'application/xml' } }),
        415,
        'request.unsupported-type',
      );
  });

  it('carries a plain X-Correlation-Id into the correlation-id header, and refuses another (400)', async () => {
    const order = sampleEvent(ORDER);
    const correlation = `checkout-${randomUUID()}`;
    const response = await suite.calls().publish(order, suite.calls().demo, { 'x-correlation-id': correlation });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const record = (await suite.calls().ordersRecords()).find((r) => r.headers.ce_id === id);
    expect(record?.headers['correlation-id']).toBe(correlation);
    const before = await suite.calls().ordersCount();
    const body = await suite
      .calls()
      .expectProblem(
        await suite.calls().publish(sampleEvent(ORDER), suite.calls().demo, { 'x-correlation-id': 'a b\u00e9<script>' }),
        400,
        'request.invalid',
      );
    expect(body.errors?.map((e) => e.path)).toEqual(['(header).X-Correlation-Id']);
    expect(await suite.calls().ordersCount()).toBe(before);
  });

  it('answers 404 for an event type the gateway does not publish', async () => {
    await suite
      .calls()
      .expectProblem(
        await suite.calls().post('/v1/events/com.junction.inventory.StockReserved', { token: suite.calls().demo, body: {} }),
        404,
        'route.unknown',
      );
    await suite
      .calls()
      .expectProblem(
        await suite.calls().post('/v1/events/com.example.Nope', { token: suite.calls().demo, body: {} }),
        404,
        'route.unknown',
      );
  });

  it('lists the event types with the scope each needs and whether the caller holds it', async () => {
    const response = await fetch(`${suite.world().gateway.url}/v1/event-types`, {
      headers: { authorization: `Bearer ${suite.calls().demo}` },
    });
    expect(response.status).toBe(200);
    const { eventTypes } = (await suite.calls().documentedJson(response)) as {
      eventTypes: Array<{ type: string; scope: string; allowed: boolean }>;
    };
    expect(eventTypes.map((e) => e.type).sort()).toEqual(['com.junction.orders.OrderCancelled', ORDER]);
    expect(eventTypes.every((e) => e.allowed && e.scope === `events:${suite.world().ordersTopic}:write`)).toBe(true);
  });
});

describe('backpressure', () => {
  it("turns the publisher's backpressure into 503 with Retry-After, and loses nothing it accepted", async () => {
    // 64 KiB in flight at most, and no waiting for room: 40 events of ~12 KB at once cannot all fit.
    const tight = await suite
      .world()
      .another({ JUNCTION_GATEWAY_MAX_IN_FLIGHT_BYTES: '65536', JUNCTION_GATEWAY_BACKPRESSURE_TIMEOUT_MS: '0' });
    const before = await suite.calls().ordersCount();
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${tight.url}/v1/events/${ORDER}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${suite.calls().demo}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...sampleEvent(ORDER), couponCode: 'c'.repeat(12_000) }),
        }),
      ),
    );
    const busy = responses.filter((r) => r.status === 503);
    const accepted = responses.filter((r) => r.status === 202);
    expect(busy.length).toBeGreaterThan(0);
    expect(accepted.length + busy.length).toBe(40);
    expect(busy[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
    suite.calls().posted(busy[0] as Response);
    expect(await suite.calls().documentedJson(busy[0] as Response)).toMatchObject({ code: 'publisher.backpressure', retriable: true });
    // Every 202 is on the topic; no 503 is.
    await expect.poll(() => suite.calls().ordersCount(), { timeout: 10_000 }).toBe(before + accepted.length);
  });
});

describe('Idempotency-Key', () => {
  it('gives a retry the first answer and leaves one event on the topic', async () => {
    const order = sampleEvent(ORDER);
    const key = `order-${randomUUID()}`;
    const first = await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const firstBody = await suite.calls().documentedJson(first);
    const again = await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(firstBody);
    const records = await suite.calls().ordersRecords();
    expect(records.filter((r) => r.key === order.orderId)).toHaveLength(1);
  });

  it('refuses the same key with a different body (422), and a malformed key (400)', async () => {
    const key = `order-${randomUUID()}`;
    expect((await suite.calls().publish(sampleEvent(ORDER), suite.calls().demo, { 'idempotency-key': key })).status).toBe(202);
    await suite
      .calls()
      .expectProblem(
        await suite.calls().publish(sampleEvent(ORDER), suite.calls().demo, { 'idempotency-key': key }),
        422,
        'idempotency.conflict',
      );
    await suite
      .calls()
      .expectProblem(
        await suite.calls().publish(sampleEvent(ORDER), suite.calls().demo, { 'idempotency-key': 'a b' }),
        400,
        'request.invalid',
      );
  });

  it('lets a client fix an invalid body and retry it under the same key', async () => {
    const key = `order-${randomUUID()}`;
    const order = sampleEvent(ORDER);
    const broken = { ...order, total: 12.5 };
    await suite
      .calls()
      .expectProblem(await suite.calls().publish(broken, suite.calls().demo, { 'idempotency-key': key }), 400, 'event.invalid');
    const fixed = await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key });
    expect(fixed.status).toBe(202);
    const again = await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await fixed.json());
  });

  it('takes the same JSON with its keys in another order as the same request', async () => {
    const key = `order-${randomUUID()}`;
    const order = JSON.parse(JSON.stringify(sampleEvent(ORDER))) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(order).reverse());
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(order));
    const first = await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const again = await suite.calls().publish(reordered, suite.calls().demo, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    const records = await suite.calls().ordersRecords();
    expect(records.filter((r) => r.key === order.orderId)).toHaveLength(1);
  });

  it('keeps keys per client: another client with the same key publishes its own event', async () => {
    const key = `shared-${randomUUID()}`;
    const order = sampleEvent(ORDER);
    const a = (await (await suite.calls().publish(order, suite.calls().demo, { 'idempotency-key': key })).json()) as { id: string };
    const flood = await suite.world().token('flood');
    const b = (await (await suite.calls().publish(order, flood, { 'idempotency-key': key })).json()) as { id: string };
    expect(b.id).not.toBe(a.id);
  });
});

describe('operations', () => {
  it('serves health, readiness and metrics without a token, with security headers and request ids', async () => {
    expect((await fetch(`${suite.world().gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${suite.world().gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { kafka: { ok: true }, registry: { ok: true } } });
    const response = await fetch(`${suite.world().gateway.url}/nothing`, { headers: { 'x-request-id': 'req-42' } });
    await suite.calls().expectProblem(response, 404, 'route.unknown', false);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(response.headers.get('strict-transport-security')).toBeTruthy();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('drains at shutdown: /readyz answers 503 for the drain delay while events are still accepted', async () => {
    const gateway = await suite.world().another({ JUNCTION_GATEWAY_DRAIN_DELAY_MS: '1500' });
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    const stopped = gateway.shutdown();
    const readiness = await fetch(`${gateway.url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'shutting down' });
    const published = await fetch(`${gateway.url}/v1/events/${ORDER}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.calls().demo}`, 'content-type': 'application/json' },
      body: JSON.stringify(sampleEvent(ORDER)),
    });
    expect(published.status).toBe(202);
    await stopped;
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
  });
});

describe('the OpenAPI document', () => {
  it('describes request bodies as the gateway validates them', () => {
    const path = `/v1/events/${ORDER}`;
    // As JSON travels: dates become ISO strings.
    const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    expect(suite.calls().openapi.requestProblems('POST', path, json(sampleEvent(ORDER)))).toEqual([]);
    expect(suite.calls().openapi.requestProblems('POST', path, json(sampleOrderPlacedV1()))).toEqual([]);
    const { currency: _currency, ...missing } = json(sampleEvent(ORDER));
    expect(suite.calls().openapi.requestProblems('POST', path, { ...missing, total: 12.5, surprise: true }).length).toBeGreaterThan(0);
  });

  it('matched every answer the tests checked, across the statuses publishing gives', () => {
    expect(suite.calls().checkedStatuses()).toEqual(['200', '202', '400', '404', '413', '415', '422', '503']);
  });
});
