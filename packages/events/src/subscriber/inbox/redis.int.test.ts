import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { JunctionError } from '@junction/observability';
import { redisFromEnv } from '@junction/stack';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisInbox } from './redis.ts';
import type { InboxStore } from './store.ts';

const url = redisFromEnv();
const prefix = `test:inbox:${randomBytes(4).toString('hex')}:`;
const noop = async () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the Redis inbox', () => {
  let store: InboxStore;
  let redis: Redis;

  beforeAll(() => {
    store = redisInbox({ url, keyPrefix: prefix, leaseMs: 300 });
    redis = new Redis(url, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await store.close();
    redis.disconnect();
  });

  const key = (eventId: string, ttlMs = 60_000) => ({ group: 'billing', eventId, ttlMs });

  it('claims an event, marks it done for its TTL, and reports a duplicate without running it', async () => {
    const id = randomUUID();
    let calls = 0;
    const work = async () => {
      expect(await redis.get(`${prefix}billing:${id}`)).toMatch(/^pending:/);
      calls += 1;
    };
    expect(await store.run(key(id), work)).toBe('processed');
    expect(await store.run(key(id), work)).toBe('duplicate');
    expect(calls).toBe(1);
    expect(await redis.get(`${prefix}billing:${id}`)).toBe('done');
    const ttl = await redis.pttl(`${prefix}billing:${id}`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('releases the claim when the handler fails, so a retry runs', async () => {
    const id = randomUUID();
    const failure = new JunctionError('broker.unavailable', 'down');
    await expect(
      store.run(key(id), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await redis.exists(`${prefix}billing:${id}`)).toBe(0);
    expect(await store.run(key(id), noop)).toBe('processed');
  });

  it('refuses, retriably, a duplicate that arrives while the first copy runs', async () => {
    const id = randomUUID();
    let release = () => {};
    const first = store.run(key(id), () => new Promise<void>((resolve) => (release = resolve)));
    await sleep(50);
    await expect(store.run(key(id), noop)).rejects.toMatchObject({
      code: 'inbox.unavailable',
      retriable: true,
      context: { inProgress: true },
    });
    release();
    expect(await first).toBe('processed');
  });

  it('forgets an event after its TTL', async () => {
    const id = randomUUID();
    expect(await store.run(key(id, 100), noop)).toBe('processed');
    await sleep(250);
    expect(await store.run(key(id, 100), noop)).toBe('processed');
  });

  it('lets a claim left by a process that died lapse after the lease', async () => {
    const id = randomUUID();
    await redis.set(`${prefix}billing:${id}`, 'pending:someone-who-died', 'PX', 300);
    await expect(store.run(key(id), noop)).rejects.toMatchObject({ code: 'inbox.unavailable' });
    await sleep(400);
    expect(await store.run(key(id), noop)).toBe('processed');
  });

  it('fails clearly and retriably, within its timeouts, when Redis does not answer', async () => {
    const port = await freePort();
    const dead = redisInbox({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, commandTimeoutMs: 500, connectTimeoutMs: 500 });
    const started = Date.now();
    let ran = false;
    const error = await dead
      .run(key(randomUUID()), async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    await dead.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(ran).toBe(false);
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({ code: 'inbox.unavailable', retriable: true, context: { store: 'redis' } });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });
});
