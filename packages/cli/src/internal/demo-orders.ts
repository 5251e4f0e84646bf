import { randomUUID } from 'node:crypto';

const SKUS = ['SKU-LAMP', 'SKU-BULB', 'SKU-DESK', 'SKU-CHAIR'] as const;

/** A plausible OrderPlaced for demos: a new order id, one to three lines, the total that adds up. */
export function sampleOrder(): Record<string, unknown> {
  const lines = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, (_, i) => ({
    sku: SKUS[i % SKUS.length] as string,
    quantity: 1 + Math.floor(Math.random() * 3),
    unitPrice: `${5 + Math.floor(Math.random() * 40)}.99`,
  }));
  const cents = lines.reduce((sum, line) => sum + line.quantity * Math.round(Number(line.unitPrice) * 100), 0);
  return {
    orderId: randomUUID(),
    customerId: randomUUID(),
    customerEmail: 'demo.customer@example.com',
    shippingAddress: { line1: '1 Demo Street', line2: null, city: 'Utrecht', postalCode: '3511 AA', country: 'NL' },
    lines,
    total: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    currency: 'EUR',
    couponCode: null,
    placedAt: new Date(),
  };
}
