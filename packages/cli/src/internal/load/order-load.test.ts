import { describe, expect, it } from 'vitest';
import { percentile, randomOrder } from './order-load.ts';

describe('the order load', () => {
  it('makes orders whose total is exactly the sum of their lines, of one to three catalogue lines', () => {
    for (let i = 0; i < 200; i += 1) {
      const order = randomOrder() as { lines: Array<{ quantity: number; unitPrice: string }>; total: string };
      expect(order.lines.length).toBeGreaterThanOrEqual(1);
      expect(order.lines.length).toBeLessThanOrEqual(3);
      const cents = order.lines.reduce((sum, l) => sum + Math.round(Number(l.unitPrice) * 100) * l.quantity, 0);
      expect(order.total).toBe((cents / 100).toFixed(2));
    }
  });

  it('reads percentiles by rank', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
  });
});
