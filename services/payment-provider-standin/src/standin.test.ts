import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createStandin, type StandinOptions } from './standin.ts';

describe('the payment provider stand-in', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  const start = async (options: Partial<StandinOptions> = {}) => {
    const standin = createStandin({ latencyMs: 0, failureRate: 0, cardLimit: '100.00', ...options });
    server = createServer(standin.handle);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string, key: string | undefined, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        body: JSON.stringify(body),
      });
    return { standin, url, post };
  };

  it('captures a charge once per idempotency key: a retry replays the answer, another body is refused', async () => {
    const { standin, post } = await start();
    const body = { amount: '28.20', currency: 'EUR', reference: 'order-1' };
    const first = await post('/v1/charges', 'k1', body);
    expect(first.status).toBe(201);
    const charge = (await first.json()) as { id: string; status: string };
    expect(charge.status).toBe('captured');
    const again = await post('/v1/charges', 'k1', body);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(charge.id);
    expect((await post('/v1/charges', 'k1', { ...body, amount: '1.00' })).status).toBe(422);
    expect((await post('/v1/charges', undefined, body)).status).toBe(400);
    expect(standin.ledger.filter((e) => e.kind === 'charge')).toHaveLength(1);
  });

  it('declines above the card limit (402, in the ledger), and fails transiently at its failure rate without recording', async () => {
    const rolls = [0.1, 0.9];
    const { standin, post } = await start({ failureRate: 0.5, random: () => rolls.shift() ?? 0.9 });
    const failed = await post('/v1/charges', 'k2', { amount: '10.00', currency: 'EUR', reference: 'order-2' });
    expect(failed.status).toBe(503);
    expect(standin.ledger).toHaveLength(0);
    const retried = await post('/v1/charges', 'k2', { amount: '10.00', currency: 'EUR', reference: 'order-2' });
    expect(retried.status).toBe(201);
    const declined = await post('/v1/charges', 'k3', { amount: '100.01', currency: 'EUR', reference: 'order-3' });
    expect(declined.status).toBe(402);
    expect(await declined.json()).toMatchObject({ status: 'declined', declineCode: 'card_limit_exceeded' });
    expect(standin.ledger.map((e) => e.status)).toEqual(['captured', 'declined']);
  });

  it('refunds a captured charge at most up to its amount, and shows everything in its ledger', async () => {
    const { url, post } = await start();
    const charge = (await (await post('/v1/charges', 'c', { amount: '20.00', currency: 'EUR', reference: 'order-4' })).json()) as {
      id: string;
    };
    expect((await post('/v1/refunds', 'r1', { charge: charge.id, amount: '20.00' })).status).toBe(201);
    expect((await post('/v1/refunds', 'r2', { charge: charge.id, amount: '0.01' })).status).toBe(422);
    expect((await post('/v1/refunds', 'r3', { charge: 'ch_nope', amount: '1.00' })).status).toBe(404);
    const ledger = (await (await fetch(`${url}/v1/ledger`)).json()) as { entries: Array<{ kind: string; reference: string }> };
    expect(ledger.entries.map((e) => e.kind)).toEqual(['charge', 'refund']);
    expect(ledger.entries[1]?.reference).toBe(charge.id);
  });
});
