import { randomUUID } from 'node:crypto';

/** A valid event of every type of schemas/, latest version; `orderId` (or `subscriptionId`) as given. */
export function sampleEvent(type: string, key: string = randomUUID()): Record<string, unknown> {
  const now = new Date('2026-11-24T09:30:00.000Z');
  const order = {
    orderId: key,
    customerId: randomUUID(),
    customerEmail: 'ada@example.com',
    shippingAddress: { line1: '12 Analytical Row', line2: null, city: 'London', postalCode: 'NW1 6XE', country: 'GB' },
    lines: [
      { sku: 'SKU-LAMP', quantity: 2, unitPrice: '19.99' },
      { sku: 'SKU-BULB', quantity: 1, unitPrice: '4.50' },
    ],
    total: '44.48',
    currency: 'EUR',
    couponCode: 'WELCOME10',
    placedAt: now,
  };
  const samples: Record<string, Record<string, unknown>> = {
    'com.junction.orders.OrderPlaced': order,
    'com.junction.orders.OrderCancelled': {
      orderId: key,
      reason: 'Customer changed their mind',
      cancelledBy: 'customer',
      cancelledAt: now,
    },
    'com.junction.inventory.StockReserved': {
      reservationId: randomUUID(),
      orderId: key,
      warehouseId: 'ams-1',
      lines: [{ sku: 'SKU-LAMP', quantity: 2 }],
      reservedAt: now,
      expiresAt: new Date(now.getTime() + 15 * 60_000),
    },
    'com.junction.inventory.StockRejected': {
      orderId: key,
      reason: 'Not enough lamps',
      shortages: [{ sku: 'SKU-LAMP', requested: 2, available: 1 }],
      rejectedAt: now,
    },
    'com.junction.billing.PaymentCaptured': {
      paymentId: randomUUID(),
      orderId: key,
      amount: '44.48',
      currency: 'EUR',
      method: 'card',
      providerReference: 'psp_8a7f',
      capturedAt: now,
    },
    'com.junction.billing.PaymentFailed': {
      paymentId: randomUUID(),
      orderId: key,
      amount: '44.48',
      currency: 'EUR',
      failureCode: 'card_declined',
      failureMessage: 'The card was declined',
      retriable: false,
      failedAt: now,
    },
    'com.junction.billing.PaymentRefunded': {
      paymentId: randomUUID(),
      orderId: key,
      amount: '44.48',
      currency: 'EUR',
      providerReference: 're_5d1c',
      reason: 'Customer changed their mind',
      refundedAt: now,
    },
    'com.junction.notifications.WebhookDelivered': {
      deliveryId: randomUUID(),
      subscriptionId: key,
      eventId: randomUUID(),
      eventType: 'com.junction.orders.OrderPlaced.v2',
      url: 'https://partner.example/hooks/orders',
      statusCode: 204,
      attempt: 1,
      durationMs: 87,
      deliveredAt: now,
    },
    'com.junction.notifications.WebhookFailed': {
      deliveryId: randomUUID(),
      subscriptionId: key,
      eventId: randomUUID(),
      eventType: 'com.junction.orders.OrderPlaced.v2',
      url: 'https://partner.example/hooks/orders',
      statusCode: null,
      error: 'timeout after 10000 ms',
      attempts: 3,
      nextAttemptAt: new Date(now.getTime() + 60_000),
      failedAt: now,
    },
  };
  const sample = samples[type];
  if (!sample) throw new Error(`no sample for ${type}`);
  return sample;
}

/** OrderPlaced as version 1 wrote it: v2's `couponCode` did not exist yet. */
export function sampleOrderPlacedV1(orderId: string = randomUUID()): Record<string, unknown> {
  const { couponCode: _, ...v1 } = sampleEvent('com.junction.orders.OrderPlaced', orderId);
  return v1;
}
