import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

const options = { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 };

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, options, middle))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads by at most the jitter fraction', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(160);
    expect(backoffDelay(1, options, () => 1)).toBe(240);
  });
});
