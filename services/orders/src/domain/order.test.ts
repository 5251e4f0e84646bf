import { describe, expect, it } from 'vitest';
import { PLACE_ORDER_EXAMPLE } from '../api.ts';
import { fromCents, isCurrency, toCents } from './money.ts';
import { checkOrder, nextStatus, type PlaceOrderBody, sagaMove } from './order.ts';

/** The README's order, which meets every rule. */
const valid: PlaceOrderBody = PLACE_ORDER_EXAMPLE;

describe('checkOrder', () => {
  it('accepts an order that meets every rule', () => {
    expect(checkOrder(valid)).toEqual([]);
    expect(checkOrder({ ...valid, lines: [{ sku: 'FREE-1', quantity: 3, unitPrice: '0' }], total: '0.00' })).toEqual([]);
  });

  it('names every broken rule at its field, all at once', () => {
    const problems = checkOrder({
      ...valid,
      customerEmail: 'ada@',
      currency: 'EUX',
      lines: [
        { sku: 'A', quantity: 0, unitPrice: '1.00' },
        { sku: 'B', quantity: 1.5, unitPrice: '-2' },
        { sku: 'C', quantity: 1, unitPrice: '1.999' },
      ],
      total: '3',
    });
    expect(problems.map((p) => p.path)).toEqual([
      'lines.0.quantity',
      'lines.1.quantity',
      'lines.1.unitPrice',
      'lines.2.unitPrice',
      'currency',
      'customerEmail',
    ]);
  });

  it('wants at least one line, and a total equal to the sum of the lines', () => {
    expect(checkOrder({ ...valid, lines: [], total: '0' })).toEqual([{ path: 'lines', reason: 'an order needs at least one line' }]);
    expect(checkOrder({ ...valid, total: '28.21' })).toEqual([{ path: 'total', reason: 'the lines add up to 28.20, not 28.21' }]);
    expect(checkOrder({ ...valid, total: 'lots' })[0]?.path).toBe('total');
  });
});

describe('money', () => {
  it('adds exactly in cents', () => {
    expect(toCents('12.5')).toBe(1250n);
    expect((toCents('0.1') ?? 0n) + (toCents('0.2') ?? 0n)).toBe(toCents('0.3'));
    expect(fromCents(2820n)).toBe('28.20');
    expect(toCents('01.00')).toBeUndefined();
    expect(toCents('1e3')).toBeUndefined();
    expect(isCurrency('EUR') && isCurrency('JPY')).toBe(true);
    expect(isCurrency('eur')).toBe(false);
  });
});

describe('nextStatus', () => {
  it('moves placed → reserved → confirmed, cancels on a rejection or failed payment, and ignores late or repeated events', () => {
    expect(nextStatus('placed', 'reserved')).toBe('reserved');
    expect(nextStatus('reserved', 'captured')).toBe('confirmed');
    expect(nextStatus('placed', 'rejected')).toBe('cancelled');
    expect(nextStatus('reserved', 'failed')).toBe('cancelled');
    expect(nextStatus('confirmed', 'reserved')).toBeUndefined();
    expect(nextStatus('reserved', 'reserved')).toBeUndefined();
    expect(nextStatus('cancelled', 'captured')).toBeUndefined();
  });

  it('takes a payment that overtook its reservation (another topic): placed → confirmed, and the reservation after it changes nothing', () => {
    expect(nextStatus('placed', 'captured')).toBe('confirmed');
    expect(nextStatus('placed', 'failed')).toBe('cancelled');
    expect(nextStatus('confirmed', 'reserved')).toBeUndefined();
    expect(nextStatus('cancelled', 'reserved')).toBeUndefined();
  });

  it('lets a customer cancel any order not cancelled yet', () => {
    expect(nextStatus('placed', 'cancel')).toBe('cancelled');
    expect(nextStatus('confirmed', 'cancel')).toBe('cancelled');
    expect(nextStatus('cancelled', 'cancel')).toBeUndefined();
  });

  it('reads each saga step off those rules as one move: the statuses it takes orders from, and the one it takes them to', () => {
    expect(sagaMove('reserved')).toEqual({ from: ['placed'], to: 'reserved' });
    expect(sagaMove('rejected')).toEqual({ from: ['placed'], to: 'cancelled' });
    expect(sagaMove('captured')).toEqual({ from: ['placed', 'reserved'], to: 'confirmed' });
    expect(sagaMove('failed')).toEqual({ from: ['placed', 'reserved'], to: 'cancelled' });
  });
});
