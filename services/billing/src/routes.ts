import { JunctionError, type Router, type ServiceContext } from '@junction/service';
import { z } from 'zod';

/** `GET /billing/payments/:orderId`: the payment of an order, as billing holds it. */
export function billingRoutes(router: Router, service: ServiceContext<unknown>): void {
  router.get('/billing/payments/:orderId', async (req, res) => {
    const orderId = String(req.params.orderId);
    const { rows } = z.uuid().safeParse(orderId).success
      ? await service.db.query(
          'SELECT payment_id, order_id, status, amount::text AS amount, currency, provider_charge, provider_refund, failure_code, created_at, refunded_at FROM payments WHERE order_id = $1',
          [orderId],
        )
      : { rows: [] };
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) throw new JunctionError('route.unknown', `no payment for order ${orderId}`);
    res.json({
      paymentId: row.payment_id,
      orderId: row.order_id,
      status: row.status,
      amount: row.amount,
      currency: String(row.currency).trim(),
      providerCharge: row.provider_charge,
      providerRefund: row.provider_refund,
      failureCode: row.failure_code,
    });
  });
}
