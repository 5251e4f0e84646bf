import { describe, expect, it } from 'vitest';
import { afterFailure, type RetrySchedule } from './schedule.ts';

const schedule: RetrySchedule = { initialMs: 1000, multiplier: 4, maxMs: 60_000, jitter: 0, maxAttempts: 5, maxAgeMs: 3_600_000 };
const start = new Date('2026-12-07T00:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);

describe('the retry schedule of a failed delivery', () => {
  it('backs off exponentially from the last attempt, capped', () => {
    expect(afterFailure(schedule, 1, start, at(0))).toEqual({ retryAt: at(1000) });
    expect(afterFailure(schedule, 2, start, at(5000))).toEqual({ retryAt: at(5000 + 4000) });
    expect(afterFailure(schedule, 3, start, at(9000))).toEqual({ retryAt: at(9000 + 16_000) });
    expect(afterFailure(schedule, 4, start, at(9000))).toEqual({ retryAt: at(9000 + 60_000) });
  });

  it('spreads retries by the jitter, both ways', () => {
    const jittery = { ...schedule, jitter: 0.5 };
    expect(afterFailure(jittery, 1, start, start, () => 0)).toEqual({ retryAt: at(500) });
    expect(afterFailure(jittery, 1, start, start, () => 1)).toEqual({ retryAt: at(1500) });
  });

  it('gives up after the last attempt of the round', () => {
    expect(afterFailure(schedule, 5, start, at(1000))).toEqual({ giveUp: 'gave up after 5 attempts' });
    expect(afterFailure({ ...schedule, maxAttempts: 1 }, 1, start, start)).toHaveProperty('giveUp');
  });

  it('gives up when the next attempt would come past the age bound', () => {
    const young = { ...schedule, maxAgeMs: 10_000 };
    expect(afterFailure(young, 1, start, at(8000))).toEqual({ retryAt: at(9000) });
    expect(afterFailure(young, 1, start, at(9500))).toHaveProperty('giveUp', expect.stringMatching(/10000 ms after the first/));
  });
});
