import { describe, expect, it } from 'vitest';
import { shortages, totalsBySku } from './stock.ts';

describe('stock rules', () => {
  it('adds the lines of one SKU together, in SKU order (the order rows are locked in)', () => {
    expect(
      totalsBySku([
        { sku: 'PEN', quantity: 1 },
        { sku: 'BOOK', quantity: 2 },
        { sku: 'PEN', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'BOOK', quantity: 2 },
      { sku: 'PEN', quantity: 4 },
    ]);
  });

  it('names every SKU that is short, an unknown one as 0 available', () => {
    const stock = new Map([
      ['BOOK', 5],
      ['PEN', 1],
    ]);
    expect(shortages([{ sku: 'BOOK', quantity: 5 }], stock)).toEqual([]);
    expect(
      shortages(
        [
          { sku: 'BOOK', quantity: 6 },
          { sku: 'GHOST', quantity: 1 },
          { sku: 'PEN', quantity: 1 },
        ],
        stock,
      ),
    ).toEqual([
      { sku: 'BOOK', requested: 6, available: 5 },
      { sku: 'GHOST', requested: 1, available: 0 },
    ]);
  });
});
