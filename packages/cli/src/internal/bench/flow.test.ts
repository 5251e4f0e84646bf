import { describe, expect, it } from 'vitest';
import type { LoadStats } from '../load/order-load.ts';
import { type FlowPhase, judgePhase, medianRun, searchOrder } from './flow.ts';

const stats = (over: Partial<LoadStats>): LoadStats => ({
  placed: 1000,
  dropped: 0,
  refused: 0,
  confirmed: 1000,
  cancelled: 0,
  pending: 0,
  completionMs: Array.from({ length: 1000 }, (_, i) => i + 1),
  ...over,
});

describe('the flow bench', () => {
  it('holds a rate only when p99 is under 1 s, every order settled and the rate was reached', () => {
    expect(judgePhase(100, 10, stats({}))).toEqual({ held: true, p50Ms: 500, p99Ms: 990 });
    expect(judgePhase(100, 10, stats({ completionMs: [...Array(989).fill(10), ...Array(11).fill(1500)] }))).toMatchObject({
      held: false,
      why: 'p99 1500 ms is over 1000 ms',
    });
    expect(judgePhase(100, 10, stats({ pending: 3 })).why).toBe('3 never settled');
    expect(judgePhase(100, 10, stats({ refused: 2, firstRefusal: '504 timeout' })).why).toBe('2 refused (first: 504 timeout)');
    expect(judgePhase(100, 10, stats({ dropped: 1 })).held).toBe(false);
    expect(judgePhase(200, 10, stats({})).why).toMatch(/placed 1000 of about 2000/);
    expect(judgePhase(100, 10, stats({ confirmed: 0, completionMs: [] })).why).toBe('no order was confirmed');
  });
});

describe("the flow bench's search", () => {
  it('goes up from a rate that held, lowest first, and down from one that did not, highest first', () => {
    const rates = [25, 50, 75, 150, 200, 75];
    expect(searchOrder(100, true, rates)).toEqual([150, 200]);
    expect(searchOrder(100, false, rates)).toEqual([75, 50, 25]);
    expect(searchOrder(100, true, [])).toEqual([]);
  });
});

describe("the flow bench's runs of one rate", () => {
  const run = (p99Ms: number | undefined): FlowPhase => ({
    rate: 100,
    seconds: 30,
    stats: stats({}),
    held: p99Ms !== undefined && p99Ms < 1000,
    ...(p99Ms === undefined ? {} : { p99Ms }),
  });

  it('are judged by the run with the median p99, the upper of two middles, a run with none the slowest', () => {
    expect(medianRun([run(300), run(200), run(700)]).p99Ms).toBe(300);
    expect(medianRun([run(202), run(702)]).p99Ms).toBe(702);
    expect(medianRun([run(undefined), run(200), run(250)]).p99Ms).toBe(250);
    expect(medianRun([run(120)]).p99Ms).toBe(120);
    expect(() => medianRun([])).toThrow('no measured run');
  });
});
