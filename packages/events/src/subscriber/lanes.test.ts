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

/** A handler whose items finish when the test says, recording starts, finishes and runs per item. */
function gated<T>() {
  const started: T[] = [];
  const finished: T[] = [];
  const gates = new Map<T, () => void>();
  const run = (item: T) =>
    new Promise<void>((resolve) => {
      started.push(item);
      gates.set(item, () => {
        finished.push(item);
        resolve();
      });
    });
  const finish = async (item: T) => {
    const open = gates.get(item);
    if (!open) throw new Error(`${String(item)} has not started`);
    gates.delete(item);
    open();
    await tick(0);
  };
  return { started, finished, run, finish };
}

describe('Lanes, one step at a time', () => {
  it('runs an item once when another is pushed to its lane while the lane waits for a slot', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(2, h.run);
    lanes.push('a', 'a1');
    lanes.push('c', 'c1'); // both slots taken
    lanes.push('b', 'b1'); // b waits
    lanes.push('b', 'b2'); // pushed while b waits: b must not be lined up twice
    expect(h.started).toEqual(['a1', 'c1']);
    await h.finish('a1');
    expect(h.started).toEqual(['a1', 'c1', 'b1']);
    await h.finish('c1'); // a second slot frees while b runs: b1 must not start again beside itself
    expect(h.started).toEqual(['a1', 'c1', 'b1']);
    await h.finish('b1');
    await h.finish('b2');
    await lanes.idle();
    expect(h.started).toEqual(['a1', 'c1', 'b1', 'b2']);
    expect(lanes.size).toBe(0);
  });

  it('gives a waiting lane its turn after each item of a busy one, and keeps a lone lane running', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(1, h.run);
    for (const item of ['a1', 'a2', 'a3']) lanes.push('a', item);
    lanes.push('b', 'b1');
    await h.finish('a1');
    expect(h.started).toEqual(['a1', 'b1']); // a went to the back of the line
    await h.finish('b1');
    await h.finish('a2');
    expect(h.started).toEqual(['a1', 'b1', 'a2', 'a3']); // alone, a goes on
    await h.finish('a3');
    await lanes.idle();
    expect(h.finished).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('starts a lane pushed to after it ran empty, once', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(2, h.run);
    lanes.push('a', 'a1');
    await h.finish('a1');
    await lanes.idle();
    lanes.push('a', 'a2');
    lanes.push('a', 'a3');
    expect(h.started).toEqual(['a1', 'a2']);
    await h.finish('a2');
    await h.finish('a3');
    await lanes.idle();
    expect(h.started).toEqual(['a1', 'a2', 'a3']);
  });

  it('removes only what `drop` selects, from waiting lanes too, in each lane from the back', async () => {
    const h = gated<number>();
    const lanes = new Lanes<number>(1, h.run);
    for (const item of [1, 2, 3, 4]) lanes.push('x', item);
    for (const item of [10, 11, 12]) lanes.push('y', item); // y waits for the slot
    const asked: number[] = [];
    expect(lanes.remove((item) => asked.push(item) > 0 && item % 2 === 0)).toEqual([4, 2, 12, 10]);
    // Asked about every queued item once, never about the running one (1) nor past a lane's end.
    expect(asked.toSorted((a, b) => a - b)).toEqual([2, 3, 4, 10, 11, 12]);
    expect(lanes.size).toBe(3);
    await h.finish(1);
    await h.finish(11); // y's turn: its first item left is 11
    await h.finish(3);
    await lanes.idle();
    expect(h.finished).toEqual([1, 11, 3]);
  });

  it('forgets a waiting lane emptied by remove, and settles idle() when nothing is left', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(1, h.run);
    lanes.push('a', 'a1');
    lanes.push('b', 'b1');
    let idle = false;
    void lanes.idle().then(() => {
      idle = true;
    });
    expect(lanes.remove((item) => item === 'b1')).toEqual(['b1']);
    await tick(0);
    expect(idle).toBe(false); // a1 still runs
    await h.finish('a1');
    await tick(0);
    expect(idle).toBe(true);
    expect(h.started).toEqual(['a1']); // b never ran

    // All queued work removed while nothing runs: idle() waiters are told at once.
    lanes.push('c', 'c1');
    lanes.push('c', 'c2');
    let idleAgain = false;
    void lanes.idle().then(() => {
      idleAgain = true;
    });
    expect(lanes.remove((item) => item === 'c2')).toEqual(['c2']);
    await h.finish('c1');
    await tick(0);
    expect(idleAgain).toBe(true);
    expect(lanes.remove(() => true)).toEqual([]);
    lanes.push('b', 'b2');
    expect(h.started).toEqual(['a1', 'c1', 'b2']);
    await h.finish('b2');
  });

  it('lines a lane emptied by remove up once, at the back, when it is pushed to again', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(2, h.run);
    lanes.push('a', 'a1');
    lanes.push('c', 'c1'); // both slots taken
    lanes.push('b', 'b1');
    lanes.push('d', 'd1'); // b, then d, wait
    expect(lanes.remove((item) => item === 'b1')).toEqual(['b1']);
    lanes.push('b', 'b2'); // b lines up again, behind d
    await h.finish('a1');
    expect(h.started).toEqual(['a1', 'c1', 'd1']);
    await h.finish('c1');
    expect(h.started).toEqual(['a1', 'c1', 'd1', 'b2']);
    await h.finish('d1'); // a slot frees while b2 runs: it must not start again beside itself
    expect(h.started).toEqual(['a1', 'c1', 'd1', 'b2']);
    await h.finish('b2');
    await lanes.idle();
    expect([lanes.size, lanes.lanes]).toEqual([0, 0]);
  });

  it('lets go of each lane once it runs empty: key mode holds the keys in flight, not every key seen', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(2, h.run);
    for (const key of ['k1', 'k2', 'k3', 'k4']) lanes.push(key, key);
    lanes.push('k1', 'k1 again');
    expect(lanes.lanes).toBe(4);
    await h.finish('k1');
    // k1 has more: it went to the back of the line; k3 took the slot.
    expect([lanes.lanes, h.started]).toEqual([4, ['k1', 'k2', 'k3']]);
    await h.finish('k2');
    expect(lanes.lanes).toBe(3);
    for (const item of ['k3', 'k4', 'k1 again']) await h.finish(item);
    await lanes.idle();
    expect(lanes.lanes).toBe(0);
    // Removing every queued item lets the emptied lanes go too.
    lanes.push('x', 'x1');
    lanes.push('y', 'y1');
    lanes.push('z', 'z1');
    lanes.push('x', 'x2');
    expect(lanes.remove((item) => item !== 'x1' && item !== 'y1')).toEqual(['x2', 'z1']);
    expect(lanes.lanes).toBe(2);
    await h.finish('x1');
    await h.finish('y1');
    expect(lanes.lanes).toBe(0);
  });

  it('resolves idle() at once when empty, and every waiter once the work is done', async () => {
    const h = gated<string>();
    const lanes = new Lanes<string>(1, h.run);
    await lanes.idle();
    lanes.push('a', 'a1');
    const settled: number[] = [];
    void lanes.idle().then(() => settled.push(1));
    void lanes.idle().then(() => settled.push(2));
    await tick(0);
    expect(settled).toEqual([]);
    await h.finish('a1');
    await tick(0);
    expect(settled).toEqual([1, 2]);
    // A later waiter is not kept from earlier rounds.
    lanes.push('a', 'a2');
    let later = false;
    void lanes.idle().then(() => {
      later = true;
    });
    await tick(0);
    expect(later).toBe(false);
    await h.finish('a2');
    await tick(0);
    expect(later).toBe(true);
  });
});
