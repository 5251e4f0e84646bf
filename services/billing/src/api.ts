import type { ServiceApi } from '@junction/service';
import { z } from 'zod';

const payment = z
  .object({
    paymentId: z.uuid(),
    orderId: z.uuid(),
    status: z.enum(['captured', 'failed', 'refunded']),
    amount: z.string().regex(/^\d{1,10}\.\d{2}$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    providerCharge: z.string().nullable().describe("The provider's charge id, once captured"),
    providerRefund: z.string().nullable().describe("The provider's refund id, once refunded"),
    failureCode: z.string().nullable().describe("The provider's reason, when the charge failed"),
  })
  .strict();

/** The billing service's routes, described: what `routes.ts` mounts, checked by the kit at start. */
export const billingApi: ServiceApi = {
  description: 'Payments of orders, as billing holds them.',
  operations: [
    {
      method: 'get',
      path: '/billing/payments/:orderId',
      operationId: 'getPayment',
      summary: 'The payment of an order: captured, failed or refunded',
      params: { orderId: { description: "The order's id", schema: z.uuid() } },
      responses: {
        200: { description: 'The payment', body: payment },
        404: { description: 'No payment for this order (yet)', body: 'problem' },
      },
    },
  ],
};
