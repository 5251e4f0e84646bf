import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

/** A bucket on a clock the test moves; sleeping moves the clock. */
function fakeBucket(ratePerSecond: number, capacity?: number) {
  let now = 0;
  const bucket = new TokenBucket({
    ratePerSecond,
    capacity,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  });
  return { bucket, clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('lets the burst through at once, then one token per 1/rate', () => {
    const { bucket } = fakeBucket(10, 2);
    expect(bucket.reserve(1)).toBe(0);
    expect(bucket.reserve(1)).toBe(0);
    expect(bucket.reserve(1)).toBe(100);
    expect(bucket.reserve(1)).toBe(200);
  });

  it('holds a long run to the rate: N tokens take at least (N - capacity) / rate', async () => {
    const { bucket, clock } = fakeBucket(50, 5);
    for (let i = 0; i < 505; i += 1) await bucket.take(1);
    expect(clock()).toBeGreaterThanOrEqual(10_000);
    expect(clock()).toBeLessThan(10_100);
  });

  it('keeps the rate for batches larger than the capacity, through debt', async () => {
    const { bucket, clock } = fakeBucket(100, 10);
    for (let i = 0; i < 10; i += 1) await bucket.take(50);
    // 500 tokens, 10 in the bucket at the start: 490 at 100/s.
    expect(clock()).toBe(4900);
  });

  it('refills while idle, but never beyond its capacity', () => {
    const { bucket, advance } = fakeBucket(10, 3);
    expect(bucket.reserve(3)).toBe(0);
    advance(60_000);
    expect(bucket.reserve(3)).toBe(0);
    expect(bucket.reserve(1)).toBe(100);
  });

  it('defaults the burst to a tenth of a second, at least one token', () => {
    expect(new TokenBucket({ ratePerSecond: 1000 }).capacity).toBe(100);
    expect(new TokenBucket({ ratePerSecond: 2 }).capacity).toBe(1);
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
  });
});
