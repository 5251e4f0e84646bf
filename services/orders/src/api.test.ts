import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PLACE_ORDER_EXAMPLE } from './api.ts';
import { cancelOrderBody, checkOrder, placeOrderBody } from './domain/order.ts';

describe('the orders API description', () => {
  it("documents the README's example order, which meets every rule as it is", async () => {
    const file = JSON.parse(await readFile(new URL('../../../schemas/examples/place-order.json', import.meta.url), 'utf8'));
    expect(PLACE_ORDER_EXAMPLE).toEqual(file);
    const parsed = placeOrderBody.parse(PLACE_ORDER_EXAMPLE);
    expect(checkOrder(parsed)).toEqual([]);
  });

  it('refuses a NUL in a string the database would store (a 400, not a failed insert)', () => {
    const address = { ...PLACE_ORDER_EXAMPLE.shippingAddress, city: 'Lon\u0000don' };
    expect(placeOrderBody.safeParse({ ...PLACE_ORDER_EXAMPLE, shippingAddress: address }).success).toBe(false);
    expect(placeOrderBody.safeParse({ ...PLACE_ORDER_EXAMPLE, customerEmail: 'ada\u0000@example.com' }).success).toBe(false);
    expect(cancelOrderBody.safeParse({ reason: 'no\u0000' }).success).toBe(false);
    expect(cancelOrderBody.safeParse({ reason: 'changed my mind' }).success).toBe(true);
  });
});
