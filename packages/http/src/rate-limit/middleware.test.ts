import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { problemHandler } from '../problem.ts';
import { memoryRateLimitStore } from './memory.ts';
import { rateLimit } from './middleware.ts';
import { redisRateLimitStore } from './redis.ts';
import type { RateLimitStore } from './store.ts';

/** An app limited per `x-client` header, as bearerAuth's client id would be. */
async function limitedApp(store: RateLimitStore, capacity: number, refillPerSecond: number) {
  const app = express();
  app.use(rateLimit({ store, capacity, refillPerSecond, key: (req) => String(req.headers['x-client']) }));
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { get: (client: string) => fetch(base, { headers: { 'x-client': client } }), close: () => server.close() };
}

describe('rateLimit (memory)', () => {
  it('lets a burst through, answers 429 with Retry-After and RateLimit headers, and recovers', async () => {
    // The store's clock stands still until the test moves it: a loaded machine taking over 100 ms
    // for the burst would otherwise have a token refilled in the middle of it.
    let clock = 1_000_000;
    const app = await limitedApp(memoryRateLimitStore({ now: () => clock }), 5, 10);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await app.get('flood');
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(refused?.headers.get('ratelimit-policy')).toBe('"client";q=5;w=1');
    expect(refused?.headers.get('ratelimit')).toMatch(/^"client";r=0;t=1$/);
    expect(await refused?.json()).toMatchObject({ code: 'rate.limited', status: 429, retriable: true });
    // Another client has its own bucket.
    expect((await app.get('calm')).status).toBe(200);
    // A tenth of a second refills one token at 10 a second: one call through, the next refused.
    clock += 100;
    expect((await app.get('flood')).status).toBe(200);
    expect((await app.get('flood')).status).toBe(429);
    app.close();
  });

  it('forgets the least recently used buckets beyond maxKeys', async () => {
    const store = memoryRateLimitStore({ maxKeys: 2, now: () => 0 });
    const policy = { capacity: 1, refillPerSecond: 1 };
    expect(store.takeNow('a', policy).allowed).toBe(true);
    expect(store.takeNow('a', policy).allowed).toBe(false);
    store.takeNow('b', policy);
    store.takeNow('c', policy);
    // `a` was evicted: a full bucket again.
    expect(store.takeNow('a', policy).allowed).toBe(true);
  });

  it('refuses a policy that cannot work', () => {
    expect(() => rateLimit({ store: memoryRateLimitStore(), capacity: 0, refillPerSecond: 0 })).toThrow(/capacity.*refillPerSecond/);
  });
});

describe('rateLimit (Redis, shared by replicas)', () => {
  const url = process.env.JUNCTION_REDIS_URL;
  const prefix = `test:${Math.random().toString(36).slice(2)}:`;
  afterAll(async () => {
    if (!url) return;
    const redis = new Redis(url);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts one bucket across two replicas', async () => {
    if (!url) throw new Error('JUNCTION_REDIS_URL is not set: the test stack should have started Redis');
    const a = await limitedApp(redisRateLimitStore({ redis: url, prefix }), 4, 1);
    const b = await limitedApp(redisRateLimitStore({ redis: url, prefix }), 4, 1);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await a.get('shared')).status, (await b.get('shared')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.slice(4)).toEqual([429, 429]);
    a.close();
    b.close();
  });

  it('falls back to counting in the replica when Redis does not answer', async () => {
    const warnings: string[] = [];
    const store = redisRateLimitStore({
      redis: 'redis://127.0.0.1:9',
      prefix,
      timeoutMs: 100,
      logger: { warn: (m: string) => warnings.push(m) },
    });
    const policy = { capacity: 2, refillPerSecond: 1 };
    const verdicts = [await store.take('k', policy), await store.take('k', policy), await store.take('k', policy)];
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, false]);
    expect(warnings).toHaveLength(1);
    await store.close();
  });
});
