import {
  causeOf,
  type EventContext,
  JunctionError,
  type OrderCancelReason,
  orderKpis,
  type Queryable,
  type ServiceContext,
  type Subscription,
} from '@junction/service';
import { toCents } from './domain/money.ts';
import { sagaMove } from './domain/order.ts';
import { advanceOrder, lockOrder, orderExists } from './domain/store.ts';

type Step = 'reserved' | 'rejected' | 'captured' | 'failed';

interface Data {
  orderId: string;
  reason?: string;
  failureMessage?: string;
  shortages?: Array<{ sku: string; requested: number; available: number }>;
}

/** Why an order is cancelled by a step of the saga: in words a support agent can read out, and as the KPI counts it. */
function cancellation(step: Step, data: Data): { text: string; kpi: OrderCancelReason } | undefined {
  if (step === 'rejected') {
    const short = (data.shortages ?? []).map((s) => `${s.sku} (${s.available} of ${s.requested})`).join(', ');
    return { text: `out of stock${short ? `: ${short}` : ''}${data.reason ? ` (${data.reason})` : ''}`, kpi: 'stock-rejected' };
  }
  if (step === 'failed') return { text: `payment failed: ${data.failureMessage ?? 'no reason given'}`, kpi: 'payment-failed' };
  return undefined;
}

/**
 * The orders side of the saga: stock reserved or rejected, payment captured or failed, each moving
 * the order once (a repeated or late event changes nothing), in the inbox's transaction. A
 * rejection or a failed payment cancels the order and emits OrderCancelled, so inventory releases
 * the stock and billing refunds.
 */
export function sagaSubscription(service: ServiceContext<unknown>): Subscription {
  const kpis = orderKpis(service.metrics);
  const step = (kind: Step, event: string, by: string) => {
    const move = sagaMove(kind);
    return async (ctx: EventContext<Data>): Promise<void> => {
      const tx = ctx.tx as Queryable;
      const data = ctx.event?.data as Data;
      const reason = cancellation(kind, data);
      const order = await advanceOrder(tx, {
        orderId: data.orderId,
        ...move,
        event,
        eventId: ctx.event?.id ?? '',
        ...(reason ? { detail: reason.text } : {}),
      });
      if (!order) {
        // An event about an order this service never took is a bug upstream: a person must look.
        if (!(await orderExists(tx, data.orderId)))
          throw new JunctionError('event.invalid', `${event} ${ctx.event?.id} names order ${data.orderId}, which orders does not know`, {
            retriable: false,
          });
        return; // past this step: a late or repeated event changes nothing
      }
      if (move.to === 'cancelled' && reason) {
        await service.outbox.add(tx, {
          type: 'com.junction.orders.OrderCancelled',
          data: { orderId: data.orderId, reason: reason.text, cancelledBy: by, cancelledAt: new Date() },
          options: { causedBy: causeOf(ctx) },
        });
      }
      // Counted once the move is committed with the inbox row: a redelivery finds the order moved already.
      if (move.to === 'confirmed') {
        const totalCents = toCents(order.total) ?? 0n;
        ctx.afterCommit?.(() => kpis.confirmed({ totalCents, currency: order.currency, placedAt: order.placedAt }));
      } else if (move.to === 'cancelled' && reason) {
        ctx.afterCommit?.(() => kpis.cancelled(reason.kpi));
      }
    };
  };
  /** A refund changes no status (the order was cancelled already); it joins the order's history. */
  const refunded = async (ctx: EventContext<{ orderId: string; amount: string; currency: string }>): Promise<void> => {
    const tx = ctx.tx as Queryable;
    const data = ctx.event?.data;
    const order = data && (await lockOrder(tx, data.orderId));
    if (!data || !order)
      throw new JunctionError('event.invalid', `PaymentRefunded ${ctx.event?.id} names an order orders does not know`, {
        retriable: false,
      });
    await tx.query('INSERT INTO order_history (order_id, event, event_id, status, detail) VALUES ($1, $2, $3, $4, $5)', [
      data.orderId,
      'PaymentRefunded',
      ctx.event?.id ?? '',
      order.status,
      `${data.amount} ${data.currency} refunded`,
    ]);
  };

  return {
    handlers: {
      'com.junction.billing.PaymentRefunded': refunded,
      'com.junction.inventory.StockReserved': step('reserved', 'StockReserved', 'inventory'),
      'com.junction.inventory.StockRejected': step('rejected', 'StockRejected', 'inventory'),
      'com.junction.billing.PaymentCaptured': step('captured', 'PaymentCaptured', 'billing'),
      'com.junction.billing.PaymentFailed': step('failed', 'PaymentFailed', 'billing'),
    },
  };
}
