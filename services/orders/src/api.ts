import { idempotencyKeyHeader, type ServiceApi } from '@junction/service';
import { z } from 'zod';
import { cancelOrderBody, placeOrderBody } from './domain/order.ts';

/** The README's order (`schemas/examples/place-order.json`, kept equal by a test): placed as it is with a fresh Idempotency-Key. */
export const PLACE_ORDER_EXAMPLE = {
  customerId: '0193f6d2-7b1e-7c4a-9a51-2f3c8d9e4b11',
  customerEmail: 'ada@example.com',
  shippingAddress: { line1: '12 Analytical Row', line2: null, city: 'London', postalCode: 'EC1A 1BB', country: 'GB' },
  lines: [
    { sku: 'BOOK-0001', quantity: 2, unitPrice: '12.50' },
    { sku: 'PEN-0042', quantity: 1, unitPrice: '3.20' },
  ],
  total: '28.20',
  currency: 'EUR',
  couponCode: null,
};

const status = z.enum(['placed', 'reserved', 'confirmed', 'cancelled']);
const amount = z.string().regex(/^\d{1,10}\.\d{2}$/);

/** An order as the service shows it (`OrderView`). */
const order = z
  .object({
    orderId: z.uuid(),
    status,
    customerId: z.uuid(),
    total: amount,
    currency: z.string().regex(/^[A-Z]{3}$/),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPrice: z.string() }).strict()),
    cancelReason: z.string().nullable(),
    placedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    history: z.array(
      z
        .object({ event: z.string(), eventId: z.string(), status, detail: z.string().nullable(), at: z.iso.datetime() })
        .strict()
        .describe('One event applied to the order, in the order applied'),
    ),
  })
  .strict();

/** An order as `GET /orders` lists it: no lines, no history. */
const summary = order.omit({ lines: true, history: true });

const orderId = { id: { description: "The order's id, as placing it answered", schema: z.uuid() } };
const location = {
  Location: { description: "The order's path on the service", schema: z.string().regex(/^\/orders\/[0-9a-f-]{36}$/), required: true },
};
const noCaller = { description: 'No caller named: the request did not come through the gateway', body: 'problem' } as const;
const noOrder = { description: 'No such order of this caller', body: 'problem' } as const;

/** The orders service's routes, described: what `routes.ts` mounts, checked by the kit at start. */
export const ordersApi: ServiceApi = {
  description: 'Orders: place one (business rules, Idempotency-Key), read it with its history, cancel it while allowed.',
  operations: [
    {
      method: 'post',
      path: '/orders',
      operationId: 'placeOrder',
      summary: 'Place an order',
      description:
        'Checks the business rules (at least one line, quantities 1–10000, amounts ≥ 0 with two places at most, the total equal to the sum of the lines, an ISO 4217 currency, a well-formed email), stores the order and its OrderPlaced event in one transaction, and answers with the order. The saga then moves it to confirmed or cancelled.',
      headers: {
        'Idempotency-Key': idempotencyKeyHeader(
          'Required. A retry with the same key and body answers the same order (200, Idempotent-Replayed); the same key with another body is a 422',
        ),
      },
      body: { schema: placeOrderBody, required: true, example: PLACE_ORDER_EXAMPLE },
      responses: {
        201: { description: 'The order, placed', body: order, headers: location },
        200: {
          description: 'The order placed earlier with this Idempotency-Key and body',
          body: order,
          headers: {
            ...location,
            'Idempotent-Replayed': { description: 'This answer repeats an earlier one', schema: z.literal('true'), required: true },
          },
        },
        400: {
          description: 'No or a malformed Idempotency-Key, or a body of the wrong shape: `errors` names every failing field',
          body: 'problem',
        },
        401: noCaller,
        422: {
          description:
            'The order breaks business rules (`request.unprocessable`, `errors` names each), or the Idempotency-Key was used for another order (`idempotency.conflict`)',
          body: 'problem',
        },
      },
    },
    {
      method: 'get',
      path: '/orders',
      operationId: 'listOrders',
      summary: "The caller's orders: up to 100 by id, or the most recent",
      description:
        "With `id` (repeated: `?id=…&id=…`), the orders of those ids that exist and belong to the caller, in no particular order; without, the caller's `limit` most recently placed, newest first. Each without its lines or history.",
      query: {
        id: { description: 'Order ids, 1 to 100', schema: z.array(z.uuid()).min(1).max(100) },
        limit: { description: 'How many of the most recent orders, without `id`; default 20', schema: z.number().int().min(1).max(100) },
      },
      responses: {
        200: { description: 'The orders', body: z.object({ orders: z.array(summary) }).strict() },
        400: { description: 'A query of the wrong shape: `errors` names every failing parameter', body: 'problem' },
        401: noCaller,
      },
    },
    {
      method: 'get',
      path: '/orders/:id',
      operationId: 'getOrder',
      summary: 'An order, with its status and the history of the events applied',
      params: orderId,
      responses: { 200: { description: 'The order', body: order }, 401: noCaller, 404: noOrder },
    },
    {
      method: 'post',
      path: '/orders/:id/cancel',
      operationId: 'cancelOrder',
      summary: 'Cancel an order while it is not cancelled yet',
      description: 'Publishes OrderCancelled, so inventory releases the stock and billing refunds a captured payment.',
      params: orderId,
      body: { schema: cancelOrderBody, required: false, example: { reason: 'changed my mind' } },
      responses: {
        200: { description: 'The order, cancelled', body: order },
        400: { description: 'A body of the wrong shape', body: 'problem' },
        401: noCaller,
        404: noOrder,
        409: { description: 'The order is cancelled already', body: 'problem' },
      },
    },
  ],
};
