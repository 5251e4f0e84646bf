import { describe, expect, it } from 'vitest';
import { Lanes } from './lanes.ts';

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Lanes', () => {
  it('runs each lane in order and lanes side by side, at most `limit` at once', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const lanes = new Lanes<string>(2, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      log.push(item);
      running -= 1;
    });
    for (const item of ['a1', 'b1', 'c1', 'a2', 'b2', 'a3']) lanes.push(item[0] as string, item);
    expect(lanes.size).toBe(6);
    await lanes.idle();
    expect(most).toBe(2);
    const of = (lane: string) => log.filter((item) => item.startsWith(lane));
    expect(of('a')).toEqual(['a1', 'a2', 'a3']);
    expect(of('b')).toEqual(['b1', 'b2']);
    expect(log).toHaveLength(6);
    expect(lanes.size).toBe(0);
  });

  it('removes queued items but never the one running', async () => {
    const done: number[] = [];
    const lanes = new Lanes<number>(1, async (item) => {
      await tick();
      done.push(item);
    });
    for (const item of [1, 2, 3]) lanes.push('x', item);
    await tick(1);
    expect(lanes.remove(() => true)).toEqual([3, 2]);
    await lanes.idle();
    expect(done).toEqual([1]);
  });
});
