import { describe, expect, it } from 'vitest';
import { percentile } from './produce.ts';

describe('percentile', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);

  it('reads the nearest rank', () => {
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile(sorted, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('is 0 for no values', () => {
    expect(percentile([], 0.5)).toBe(0);
  });
});
