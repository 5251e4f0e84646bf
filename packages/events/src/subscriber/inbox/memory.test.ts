import { describe, expect, it } from 'vitest';
import { memoryInbox } from './memory.ts';

describe('memoryInbox (tests only)', () => {
  const key = (eventId: string, ttlMs = 1_000) => ({ group: 'g', eventId, ttlMs });
  const noop = async () => {};

  it('remembers an event for its TTL only', async () => {
    let clock = 0;
    const store = memoryInbox({ now: () => clock });
    expect(await store.run(key('a'), noop)).toBe('processed');
    clock = 999;
    expect(await store.run(key('a'), noop)).toBe('duplicate');
    clock = 1_000;
    expect(await store.run(key('a'), noop)).toBe('processed');
  });

  it('is bounded: past maxEntries the oldest are forgotten', async () => {
    const store = memoryInbox({ maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) await store.run(key(id), noop);
    expect(await store.run(key('c'), noop)).toBe('duplicate');
    expect(await store.run(key('a'), noop)).toBe('processed');
  });

  it('past the bound, forgets a tenth of it at once (not one entry per event)', async () => {
    const store = memoryInbox({ maxEntries: 10 });
    for (let i = 0; i <= 10; i += 1) await store.run(key(String(i)), noop);
    // Eleven held: down to nine, the two oldest gone.
    expect(await store.run(key('2'), noop)).toBe('duplicate');
    expect(await store.run(key('10'), noop)).toBe('duplicate');
    expect(await store.run(key('1'), noop)).toBe('processed');
    expect(await store.run(key('0'), noop)).toBe('processed');
  });

  it('refuses, retriably, a duplicate that arrives while the first copy runs', async () => {
    const store = memoryInbox();
    let release = () => {};
    const first = store.run(key('a'), () => new Promise<void>((resolve) => (release = resolve)));
    await expect(store.run(key('a'), noop)).rejects.toMatchObject({ code: 'inbox.unavailable', retriable: true });
    release();
    expect(await first).toBe('processed');
  });

  it('keeps groups apart: an event processed by one group is new to another', async () => {
    const store = memoryInbox();
    expect(await store.run(key('a'), noop)).toBe('processed');
    expect(await store.run({ group: 'h', eventId: 'a', ttlMs: 1_000 }, noop)).toBe('processed');
    expect(await store.run({ group: 'h', eventId: 'a', ttlMs: 1_000 }, noop)).toBe('duplicate');
    expect(await store.run(key('a'), noop)).toBe('duplicate');
  });

  it('forgets an event whose handler failed, so its redelivery runs', async () => {
    const store = memoryInbox();
    await expect(
      store.run(key('a'), async () => {
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await store.run(key('a'), noop)).toBe('processed');
    expect(await store.run(key('a'), noop)).toBe('duplicate');
  });

  it('forgets expired events once a second, and never one that is still running', async () => {
    let clock = 0;
    const store = memoryInbox({ now: () => clock, maxEntries: 3 });
    let release = () => {};
    const running = store.run(key('slow'), () => new Promise<void>((resolve) => (release = resolve)));
    for (const id of ['a', 'b', 'c', 'd']) await store.run(key(id), noop);
    // Past the bound: the oldest processed went ('a'); the running one is still refused.
    await expect(store.run(key('slow'), noop)).rejects.toMatchObject({ code: 'inbox.unavailable' });
    expect(await store.run(key('a'), noop)).toBe('processed');
    release();
    expect(await running).toBe('processed');
    clock = 5_000;
    expect(await store.run(key('slow'), noop)).toBe('processed');
  });
});
