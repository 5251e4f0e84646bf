import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type Delivery, type Receiver, SeenIds, startReceiver } from './receiver.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const signer = new Webhook(secret);

/** A delivery as services/notifications sends it: CloudEvents JSON, signed. */
function signed(body: string, id: string = randomUUID(), sign: Webhook = signer): Record<string, string> {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': sign.sign(id, now, body),
  };
}

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function started(options: { maxBodyBytes?: number; rememberIds?: number } = {}) {
  const deliveries: Delivery[] = [];
  receiver = await startReceiver({ host: '127.0.0.1', port: 0, onDelivery: (d) => deliveries.push(d), ...options });
  return { receiver, deliveries };
}

const post = (url: string, body: string, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) });

describe('the webhook receiver', () => {
  it('listens on 127.0.0.1 and answers 503 until it has the secret', async () => {
    const { receiver } = await started();
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const body = JSON.stringify({ id: 'x' });
    expect((await post(receiver.url, body, signed(body))).status).toBe(503);
  });

  it('answers a signed event 204 and reports it, parsed; a repeat of its webhook-id 204 and "again"', async () => {
    const { receiver, deliveries } = await started();
    receiver.setSecret(secret);
    const event = { id: randomUUID(), type: 'com.junction.orders.OrderPlaced.v2', subject: 'k', data: { a: 1 } };
    const body = JSON.stringify(event);
    const headers = signed(body, event.id);
    expect((await post(receiver.url, body, headers)).status).toBe(204);
    expect((await post(receiver.url, body, signed(body, event.id))).status).toBe(204);
    expect(deliveries).toEqual([
      { kind: 'event', webhookId: event.id, receivedAt: expect.any(Date), event },
      { kind: 'again', webhookId: event.id, receivedAt: expect.any(Date) },
    ]);
    expect(receiver.tally()).toEqual({ events: 1, again: 1, rejected: 0 });
  });

  it('answers 401 to a wrong signature, a tampered body and missing headers, and reports each', async () => {
    const { receiver, deliveries } = await started();
    receiver.setSecret(secret);
    const body = JSON.stringify({ id: 'e1' });
    const other = new Webhook(`whsec_${randomBytes(24).toString('base64')}`);
    expect((await post(receiver.url, body, signed(body, 'w1', other))).status).toBe(401);
    expect((await post(receiver.url, JSON.stringify({ id: 'e2' }), signed(body, 'w2'))).status).toBe(401);
    expect((await post(receiver.url, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect(deliveries.map((d) => d.kind === 'rejected' && [d.webhookId, d.reason])).toEqual([
      ['w1', 'No matching signature found'],
      ['w2', 'No matching signature found'],
      [undefined, 'Missing required headers'],
    ]);
    // A refused id is not remembered: the real event under it is new when it comes.
    expect((await post(receiver.url, body, signed(body, 'w1'))).status).toBe(204);
    expect(receiver.tally()).toEqual({ events: 1, again: 0, rejected: 3 });
  });

  it('shows a signed body that is not a JSON object as its text', async () => {
    const { receiver, deliveries } = await started();
    receiver.setSecret(secret);
    expect((await post(receiver.url, 'plain words', signed('plain words', 'w3'))).status).toBe(204);
    expect(deliveries[0]).toMatchObject({ kind: 'event', event: { data: 'plain words' } });
  });

  it('refuses other methods (405) and bodies past its cap (413)', async () => {
    const { receiver, deliveries } = await started({ maxBodyBytes: 100 });
    receiver.setSecret(secret);
    const get = await fetch(receiver.url, { signal: AbortSignal.timeout(5000) });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = 'x'.repeat(101);
    expect((await post(receiver.url, big, signed(big))).status).toBe(413);
    expect(deliveries).toEqual([]);
  });

  it('closes with connections still open', async () => {
    const { receiver } = await started();
    receiver.setSecret(secret);
    const body = '{}';
    await post(receiver.url, body, signed(body));
    await receiver.close();
    await expect(post(receiver.url, body, signed(body))).rejects.toThrow();
  });
});

describe('SeenIds', () => {
  it('says whether an id came before, forgetting the least recently seen past its capacity', () => {
    const seen = new SeenIds(2);
    expect([seen.seen('a'), seen.seen('b'), seen.seen('a'), seen.seen('c'), seen.seen('a'), seen.seen('b')]).toEqual([
      false,
      false,
      true,
      false,
      true,
      false,
    ]);
  });
});
