import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisIdempotencyStore } from './redis.ts';

describe('redisIdempotencyStore', () => {
  const url = process.env.JUNCTION_REDIS_URL;
  const prefix = `test:idempotency:${Math.random().toString(36).slice(2)}:`;
  const redisUrl = () => url ?? expect.unreachable('JUNCTION_REDIS_URL is not set: the test stack should have started Redis');
  afterAll(async () => {
    if (!url) return;
    const redis = new Redis(url);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('replays a completed key, refuses another fingerprint, and keeps the event id across a release', async () => {
    const store = redisIdempotencyStore({ redis: redisUrl(), prefix });
    expect(await store.claim('k', 'f1', 'e1')).toEqual({ kind: 'claimed', eventId: 'e1' });
    expect(await store.claim('k', 'f1', 'e2')).toEqual({ kind: 'in-progress' });
    await store.release('k');
    expect(await store.claim('k', 'f1', 'e3')).toEqual({ kind: 'claimed', eventId: 'e1' });
    await store.complete('k', { status: 202, body: { id: 'e1' } });
    expect(await store.claim('k', 'f1', 'e4')).toEqual({ kind: 'replay', response: { status: 202, body: { id: 'e1' } } });
    expect(await store.claim('k', 'f2', 'e5')).toEqual({ kind: 'conflict' });
    await store.close();
  });

  it('forgets a key altogether: a request with another fingerprint may claim it afresh', async () => {
    const store = redisIdempotencyStore({ redis: redisUrl(), prefix });
    await store.claim('f', 'bad-body', 'e1');
    await store.release('f');
    expect(await store.claim('f', 'fixed-body', 'e2')).toEqual({ kind: 'conflict' });
    await store.forget('f');
    expect(await store.claim('f', 'fixed-body', 'e3')).toEqual({ kind: 'claimed', eventId: 'e3' });
    await store.close();
  });

  it('is a retriable inbox.unavailable when Redis does not answer', async () => {
    const store = redisIdempotencyStore({ redis: 'redis://127.0.0.1:9', prefix, timeoutMs: 100 });
    await expect(store.forget('k')).rejects.toMatchObject({ code: 'inbox.unavailable', retriable: true });
    await store.close();
  });
});
