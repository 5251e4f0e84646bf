import { describe, expect, it } from 'vitest';
import { take } from './bucket.ts';

const policy = { capacity: 3, refillPerSecond: 2 };

describe('take', () => {
  it('starts full, spends a token per request and refuses at empty', () => {
    let state: ReturnType<typeof take>['state'] | undefined;
    const verdicts = [];
    for (let i = 0; i < 4; i++) {
      const result = take(policy, state, 1000);
      state = result.state;
      verdicts.push(result.verdict);
    }
    expect(verdicts.map((v) => [v.allowed, v.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(verdicts[3]?.retryAfterMs).toBe(500);
    expect(verdicts[3]?.resetMs).toBe(1500);
  });

  it('refills with time, never beyond capacity', () => {
    const empty = { tokens: 0, at: 0 };
    expect(take(policy, empty, 499).verdict.allowed).toBe(false);
    expect(take(policy, empty, 500).verdict).toMatchObject({ allowed: true, remaining: 0 });
    expect(take(policy, empty, 60_000).verdict).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('does not let a clock going backwards mint tokens', () => {
    expect(take(policy, { tokens: 0, at: 10_000 }, 5_000).verdict.allowed).toBe(false);
  });

  it('says when the missing part of a token and the whole bucket are back, from a part-filled bucket', () => {
    expect(take(policy, { tokens: 0.5, at: 1_000 }, 1_000).verdict).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 1250,
      retryAfterMs: 250,
    });
    expect(take(policy, { tokens: 2.5, at: 1_000 }, 1_000, 2).verdict).toEqual({
      allowed: true,
      remaining: 0,
      resetMs: 1250,
      retryAfterMs: 0,
    });
  });
});
