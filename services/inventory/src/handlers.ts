import { randomUUID } from 'node:crypto';
import { causeOf, type EventContext, type Queryable, type ServiceContext, type Subscription } from '@junction/service';
import { shortages, totalsBySku, type WantedLine } from './domain/stock.ts';

/** Where the local stack keeps its stock; one warehouse. */
const WAREHOUSE = 'local-1';
/** How long a reservation holds stock for an order that is neither confirmed nor cancelled. */
const HOLD_MS = 24 * 3600_000;

/**
 * Inventory's side of the saga. OrderPlaced reserves every line or none, atomically with the
 * inbox row (the stock rows are locked in SKU order, so two orders never deadlock), and answers
 * StockReserved or StockRejected. OrderCancelled gives held stock back. Each order is reserved
 * at most once and released at most once, whatever is redelivered.
 */
export function stockSubscription(service: ServiceContext<unknown>): Subscription {
  const reserve = async (ctx: EventContext<{ orderId: string; lines: WantedLine[] }>) => {
    const tx = ctx.tx as Queryable;
    const { orderId, lines } = ctx.event?.data ?? { orderId: '', lines: [] };
    const seen = await tx.query('SELECT 1 FROM reservations WHERE order_id = $1', [orderId]);
    if (seen.rows.length > 0) return;
    const wanted = totalsBySku(lines);
    const { rows } = await tx.query('SELECT sku, available FROM items WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', [
      wanted.map((l) => l.sku),
    ]);
    const stock = new Map((rows as Array<{ sku: string; available: number }>).map((r) => [r.sku, Number(r.available)]));
    const short = shortages(wanted, stock);
    const now = new Date();
    const reservationId = randomUUID();
    const cause = { causedBy: causeOf(ctx) };
    if (short.length > 0) {
      await tx.query("INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, 'rejected', $3)", [
        orderId,
        reservationId,
        JSON.stringify(wanted),
      ]);
      await service.outbox.add(tx, {
        type: 'com.junction.inventory.StockRejected',
        data: { orderId, reason: 'not enough stock', shortages: short, rejectedAt: now },
        options: cause,
      });
      return;
    }
    for (const line of wanted) {
      await tx.query('UPDATE items SET available = available - $2, reserved = reserved + $2 WHERE sku = $1', [line.sku, line.quantity]);
    }
    await tx.query("INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, 'held', $3)", [
      orderId,
      reservationId,
      JSON.stringify(wanted),
    ]);
    await service.outbox.add(tx, {
      type: 'com.junction.inventory.StockReserved',
      data: {
        reservationId,
        orderId,
        warehouseId: WAREHOUSE,
        lines: wanted,
        reservedAt: now,
        expiresAt: new Date(now.getTime() + HOLD_MS),
      },
      options: cause,
    });
  };

  const release = async (ctx: EventContext<{ orderId: string }>) => {
    const tx = ctx.tx as Queryable;
    const orderId = ctx.event?.data.orderId ?? '';
    const { rows } = await tx.query("SELECT lines FROM reservations WHERE order_id = $1 AND status = 'held' FOR UPDATE", [orderId]);
    const held = rows[0] as { lines: WantedLine[] | string } | undefined;
    if (!held) return;
    const lines = typeof held.lines === 'string' ? (JSON.parse(held.lines) as WantedLine[]) : held.lines;
    for (const line of [...lines].sort((a, b) => (a.sku < b.sku ? -1 : 1))) {
      await tx.query('UPDATE items SET available = available + $2, reserved = reserved - $2 WHERE sku = $1', [line.sku, line.quantity]);
    }
    await tx.query("UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1", [orderId]);
  };

  return {
    handlers: {
      'com.junction.orders.OrderPlaced': reserve,
      'com.junction.orders.OrderCancelled': release,
    },
  };
}
