import { describe, expect, it } from 'vitest';
import { Membership } from './rebalance.ts';

describe('Membership', () => {
  it('gives nothing up on the first join, and owns what it was assigned', () => {
    let revoked = 0;
    const m = new Membership(() => {
      revoked += 1;
    });
    expect(m.joined({ orders: [0, 1] })).toBe(false);
    expect(revoked).toBe(0);
    expect(m.generation).toBe(0);
    expect(m.rebalances).toBe(0);
    expect([...m.owned]).toEqual([['orders', [0, 1]]]);
    expect(m.isCurrent(0)).toBe(true);
  });

  it('gives the work up on every later join, counting a rebalance only when the partitions changed', () => {
    const generations: number[] = [];
    const m = new Membership(() => generations.push(m.generation));
    m.joined({ orders: [0, 1] });
    expect(m.joined({ orders: [0, 1] })).toBe(false); // kafkajs rejoining with the same assignment
    expect(m.rebalances).toBe(0);
    expect(generations).toEqual([1]); // revoked after the generation moved on
    expect(m.isCurrent(0)).toBe(false);
    expect(m.joined({ orders: [1] })).toBe(true);
    expect(m.rebalances).toBe(1);
    expect(generations).toEqual([1, 2]);
    expect([...m.owned]).toEqual([['orders', [1]]]);
    expect(m.isCurrent(2)).toBe(true);
  });

  it('gives the work up when kafkajs says it rebalances, without counting one', () => {
    let revoked = 0;
    const m = new Membership(() => {
      revoked += 1;
    });
    m.joined({ orders: [0] });
    m.rebalancing();
    expect(revoked).toBe(1);
    expect(m.generation).toBe(1);
    expect(m.rebalances).toBe(0);
    expect([...m.owned]).toEqual([['orders', [0]]]);
  });
});
