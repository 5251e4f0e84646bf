import { describe, expect, it } from 'vitest';
import { type CommitOffset, Commits } from './commits.ts';

function commits(fail = () => false) {
  const sent: CommitOffset[][] = [];
  const warnings: string[] = [];
  const logger = { warn: (message: string) => void warnings.push(message) } as never;
  const c = new Commits(async (offsets) => {
    if (fail()) throw new Error('REBALANCE_IN_PROGRESS');
    sent.push(offsets);
  }, logger);
  return { c, sent, warnings };
}

describe('Commits', () => {
  it('makes one tracker per partition, on first use', () => {
    const { c } = commits();
    expect(c.get('orders', 1)).toBeUndefined();
    const tracker = c.tracker('orders', 1);
    expect(c.tracker('orders', 1)).toBe(tracker);
    expect(c.get('orders', 1)).toBe(tracker);
    expect(c.tracker('orders', 2)).not.toBe(tracker);
    expect(c.tracker('orders.retry.1', 1)).not.toBe(tracker);
    expect(c.size).toBe(3);
  });

  it('commits, per partition, the offset after the last record below which all finished', async () => {
    const { c, sent } = commits();
    const a = c.tracker('orders', 0);
    for (const offset of [5, 6, 7]) a.start(offset);
    a.finish(5);
    a.finish(7); // 6 still runs: the commit stops at it
    const b = c.tracker('orders.retry.1', 3);
    b.start(40);
    b.finish(40);
    await c.commit();
    expect(sent).toEqual([
      [
        { topic: 'orders', partition: 0, offset: '6' },
        { topic: 'orders.retry.1', partition: 3, offset: '41' },
      ],
    ]);
  });

  it('commits nothing when nothing moved since the last commit', async () => {
    const { c, sent } = commits();
    await c.commit(); // no partition yet
    const a = c.tracker('orders', 0);
    a.start(1); // everything below 1 is done: 1 is the next to read
    await c.commit();
    await c.commit();
    a.finish(1);
    await c.commit();
    await c.commit();
    expect(sent).toEqual([[{ topic: 'orders', partition: 0, offset: '1' }], [{ topic: 'orders', partition: 0, offset: '2' }]]);
  });

  it('keeps a failed commit to try again, and says so', async () => {
    let failing = true;
    const { c, sent, warnings } = commits(() => failing);
    const a = c.tracker('orders', 0);
    a.start(1);
    a.finish(1);
    await expect(c.commit()).resolves.toBeUndefined();
    expect(warnings).toEqual(['offset commit failed; will try again']);
    failing = false;
    await c.commit();
    expect(sent).toEqual([[{ topic: 'orders', partition: 0, offset: '2' }]]);
  });

  it('forgets every partition on clear', async () => {
    const { c, sent } = commits();
    const a = c.tracker('orders', 0);
    a.start(1);
    a.finish(1);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.get('orders', 0)).toBeUndefined();
    await c.commit();
    expect(sent).toEqual([]);
  });
});
