import { randomUUID } from 'node:crypto';
import { causeOf, type EventContext, type Queryable, type ServiceContext, type Subscription } from '@junction/service';
import { paymentProvider } from './provider.ts';

interface OrderRow {
  total: string;
  currency: string;
  cancelled: boolean;
  /** A payment of it exists, captured or failed. */
  paid: boolean;
}

interface PaymentRow {
  payment_id: string;
  status: string;
  amount: string;
  currency: string;
  provider_charge: string | null;
}

/**
 * Billing's side of the saga. It learns each order's amount from OrderPlaced; on StockReserved it
 * charges the provider (once per order, by idempotency key and by its payments table) and answers
 * PaymentCaptured or PaymentFailed; a StockReserved that overtook its OrderPlaced waits in a table
 * until it comes (no retry timing decides). On OrderCancelled after a capture it refunds and
 * answers PaymentRefunded. A cancelled order is never charged. Each effect commits with its inbox
 * row; one order's handlers take turns (the subscription's `lockKey`: a transaction lock on the
 * order id, the record key, taken with the inbox's claim).
 */
export function paymentSubscription(service: ServiceContext<{ JUNCTION_BILLING_PROVIDER_URL: string }>): Subscription {
  const provider = paymentProvider(service, service.own.JUNCTION_BILLING_PROVIDER_URL);

  const remember = async (ctx: EventContext<{ orderId: string; total: string; currency: string }>) => {
    const tx = ctx.tx as Queryable;
    const { orderId, total, currency } = ctx.event?.data ?? { orderId: '', total: '0', currency: 'EUR' };
    const waiting = await tx.query(
      `WITH known AS (INSERT INTO orders (order_id, total, currency) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING)
       DELETE FROM waiting_reservations WHERE order_id = $1 RETURNING order_id`,
      [orderId, total, currency],
    );
    // Its StockReserved came first and waits: charge now.
    if (waiting.rows.length > 0) await chargeOrder(ctx, tx, orderId);
  };

  /** Charges an order billing knows, once: nothing for a cancelled or already paid one. False when billing does not know it (yet). */
  const chargeOrder = async (ctx: EventContext, tx: Queryable, orderId: string): Promise<boolean> => {
    const { rows } = await tx.query(
      `SELECT total::text AS total, currency, cancelled, EXISTS (SELECT 1 FROM payments WHERE payments.order_id = orders.order_id) AS paid
         FROM orders WHERE order_id = $1 FOR UPDATE OF orders`,
      [orderId],
    );
    const order = rows[0] as OrderRow | undefined;
    if (!order) return false;
    if (order.cancelled || order.paid) return true;
    const currency = order.currency.trim();
    const result = await provider.charge(orderId, order.total, currency);
    const paymentId = randomUUID();
    const now = new Date();
    const options = { causedBy: causeOf(ctx) };
    if (result.kind === 'captured') {
      await tx.query(
        "INSERT INTO payments (payment_id, order_id, status, amount, currency, provider_charge) VALUES ($1, $2, 'captured', $3, $4, $5)",
        [paymentId, orderId, order.total, currency, result.chargeId],
      );
      await service.outbox.add(tx, {
        type: 'com.junction.billing.PaymentCaptured',
        data: { paymentId, orderId, amount: order.total, currency, method: 'card', providerReference: result.chargeId, capturedAt: now },
        options,
      });
      return true;
    }
    await tx.query(
      "INSERT INTO payments (payment_id, order_id, status, amount, currency, failure_code) VALUES ($1, $2, 'failed', $3, $4, $5)",
      [paymentId, orderId, order.total, currency, result.code],
    );
    await service.outbox.add(tx, {
      type: 'com.junction.billing.PaymentFailed',
      data: {
        paymentId,
        orderId,
        amount: order.total,
        currency,
        failureCode: result.code,
        failureMessage: result.message,
        retriable: false,
        failedAt: now,
      },
      options,
    });
    return true;
  };

  const charge = async (ctx: EventContext<{ orderId: string }>) => {
    const tx = ctx.tx as Queryable;
    const orderId = ctx.event?.data.orderId ?? '';
    // StockReserved overtook OrderPlaced (another topic): it waits for it, however long that takes.
    if (!(await chargeOrder(ctx, tx, orderId))) {
      await tx.query('INSERT INTO waiting_reservations (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING', [orderId]);
    }
  };

  const cancel = async (ctx: EventContext<{ orderId: string; reason: string }>) => {
    const tx = ctx.tx as Queryable;
    const { orderId, reason } = ctx.event?.data ?? { orderId: '', reason: '' };
    await tx.query('UPDATE orders SET cancelled = true, cancel_reason = $2 WHERE order_id = $1', [orderId, reason]);
    const { rows } = await tx.query(
      "SELECT payment_id, status, amount::text AS amount, currency, provider_charge FROM payments WHERE order_id = $1 AND status = 'captured' FOR UPDATE",
      [orderId],
    );
    const payment = rows[0] as PaymentRow | undefined;
    if (!payment?.provider_charge) return;
    const refundId = await provider.refund(orderId, payment.provider_charge, payment.amount);
    await tx.query("UPDATE payments SET status = 'refunded', provider_refund = $2, refunded_at = now() WHERE payment_id = $1", [
      payment.payment_id,
      refundId,
    ]);
    await service.outbox.add(tx, {
      type: 'com.junction.billing.PaymentRefunded',
      data: {
        paymentId: payment.payment_id,
        orderId,
        amount: payment.amount,
        currency: payment.currency.trim(),
        providerReference: refundId,
        reason,
        refundedAt: new Date(),
      },
      options: { causedBy: causeOf(ctx) },
    });
  };

  return {
    handlers: {
      'com.junction.orders.OrderPlaced': remember,
      'com.junction.orders.OrderCancelled': cancel,
      'com.junction.inventory.StockReserved': charge,
    },
    // Provider outages are retried in place a few times, then through the retry topics for a minute and more.
    retry: { inPlace: { retries: 2 }, delaysMs: [1000, 10_000, 60_000] },
    // One order's handlers take turns (its events come from two topics, so in any order and at
    // once), each seeing what the last committed: every event here is keyed by its order id.
    lockKey: true,
    // A charge holds its slot for the provider's answer (20 ms locally, more in the world): by
    // Little's law 100 orders/s keep 3–4 charges running on average, and bursts of Poisson
    // arrivals many more. With the kit's 8 slots, StockReserved queued behind them for up to 200 ms
    // at p99 (`bench flow`'s stages); 16 leave room. Each slot holds one database connection.
    concurrency: 16,
  };
}
