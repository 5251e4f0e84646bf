import { causeOf, type EventContext, JunctionError, type Queryable, type ServiceContext, type Subscription } from '@junction/service';
import { nextStatus } from './domain/order.ts';
import { lockOrder, moveOrder } from './domain/store.ts';

type Step = 'reserved' | 'rejected' | 'captured' | 'failed';

interface Data {
  orderId: string;
  reason?: string;
  failureMessage?: string;
  shortages?: Array<{ sku: string; requested: number; available: number }>;
}

/** Why an order is cancelled by a step of the saga, in words a support agent can read out. */
function cancelReason(step: Step, data: Data): string | undefined {
  if (step === 'rejected') {
    const short = (data.shortages ?? []).map((s) => `${s.sku} (${s.available} of ${s.requested})`).join(', ');
    return `out of stock${short ? `: ${short}` : ''}${data.reason ? ` (${data.reason})` : ''}`;
  }
  if (step === 'failed') return `payment failed: ${data.failureMessage ?? 'no reason given'}`;
  return undefined;
}

/**
 * The orders side of the saga: stock reserved or rejected, payment captured or failed, each moving
 * the order once (a repeated or late event changes nothing), in the inbox's transaction. A
 * rejection or a failed payment cancels the order and emits OrderCancelled, so inventory releases
 * the stock and billing refunds.
 */
export function sagaSubscription(service: ServiceContext<unknown>): Subscription {
  const step =
    (kind: Step, event: string, by: string) =>
    async (ctx: EventContext<Data>): Promise<void> => {
      const tx = ctx.tx as Queryable;
      const data = ctx.event?.data as Data;
      const order = await lockOrder(tx, data.orderId);
      // An event about an order this service never took is a bug upstream: a person must look.
      if (!order)
        throw new JunctionError('event.invalid', `${event} ${ctx.event?.id} names order ${data.orderId}, which orders does not know`, {
          retriable: false,
        });
      const next = nextStatus(order.status, kind);
      if (!next) return;
      const reason = cancelReason(kind, data);
      if (next === 'cancelled' && reason) {
        await service.outbox.add(tx, {
          type: 'com.junction.orders.OrderCancelled',
          data: { orderId: data.orderId, reason, cancelledBy: by, cancelledAt: new Date() },
          options: { causedBy: causeOf(ctx) },
        });
      }
      await moveOrder(tx, {
        orderId: data.orderId,
        status: next,
        event,
        eventId: ctx.event?.id ?? '',
        ...(reason ? { detail: reason, cancelReason: reason } : {}),
      });
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
