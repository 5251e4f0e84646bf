import { randomUUID } from 'node:crypto';
import { causeOf, type EventContext, JunctionError, type Queryable, type ServiceContext, type Subscription } from '@junction/service';
import { shortages, totalsBySku, type WantedLine } from './domain/stock.ts';

/** Where the local stack keeps its stock; one warehouse. */
const WAREHOUSE = 'local-1';
/** How long a reservation holds stock for an order that is neither confirmed nor cancelled. */
const HOLD_MS = 24 * 3600_000;

/**
 * Moves `lines` (one per SKU) from available to reserved, or back, in one statement that locks
 * the rows in SKU order (two orders never deadlock) and holds the locks only until the commit
 * that follows. A reservation changes nothing unless every line fits; false then.
 */
async function moveStock(tx: Queryable, lines: readonly WantedLine[], direction: 'reserve' | 'release'): Promise<boolean> {
  const sign = direction === 'reserve' ? 1 : -1;
  const { rows } = await tx.query(
    `WITH wanted AS (SELECT * FROM unnest($1::text[], $2::int[]) AS w(sku, quantity)),
          locked AS (SELECT items.sku FROM items JOIN wanted USING (sku) ORDER BY items.sku FOR UPDATE OF items)
     UPDATE items SET available = items.available - $3 * wanted.quantity, reserved = items.reserved + $3 * wanted.quantity
       FROM wanted JOIN locked USING (sku)
      WHERE items.sku = wanted.sku AND ($3 < 0 OR items.available >= wanted.quantity)
     RETURNING items.sku`,
    [lines.map((l) => l.sku), lines.map((l) => l.quantity), sign],
  );
  return direction === 'release' || rows.length === lines.length;
}

/**
 * Inventory's side of the saga. OrderPlaced reserves every line or none, atomically with the
 * inbox row (the stock rows are locked in SKU order, last, so two orders never deadlock and hot
 * rows are held only until the commit), and answers
 * StockReserved or StockRejected. OrderCancelled gives held stock back. Each order is reserved
 * at most once and released at most once, whatever is redelivered.
 */
export function stockSubscription(service: ServiceContext<unknown>): Subscription {
  const reserve = async (ctx: EventContext<{ orderId: string; lines: WantedLine[] }>) => {
    const tx = ctx.tx as Queryable;
    const { orderId, lines } = ctx.event?.data ?? { orderId: '', lines: [] };
    const wanted = totalsBySku(lines);
    // Read without locking: every order wants the same few rows, and a lock taken here would be
    // held over every statement below and the commit. The stock is taken last, in one statement.
    const { rows } = await tx.query(
      `SELECT EXISTS (SELECT 1 FROM reservations WHERE order_id = $1) AS seen,
              (SELECT COALESCE(json_agg(json_build_array(sku, available)), '[]') FROM items WHERE sku = ANY($2::text[])) AS stock`,
      [orderId, wanted.map((l) => l.sku)],
    );
    const read = rows[0] as { seen: boolean; stock: Array<[string, number]> };
    if (read.seen) return;
    const stock = new Map(read.stock.map(([sku, available]) => [sku, Number(available)]));
    const short = shortages(wanted, stock);
    const now = new Date();
    const cause = { causedBy: causeOf(ctx) };
    const record = async (status: 'held' | 'rejected') => {
      const reservationId = randomUUID();
      await tx.query('INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, $3, $4)', [
        orderId,
        reservationId,
        status,
        JSON.stringify(wanted),
      ]);
      return reservationId;
    };
    if (short.length > 0) {
      await record('rejected');
      await service.outbox.add(tx, {
        type: 'com.junction.inventory.StockRejected',
        data: { orderId, reason: 'not enough stock', shortages: short, rejectedAt: now },
        options: cause,
      });
      return;
    }
    const reservationId = await record('held');
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
    if (!(await moveStock(tx, wanted, 'reserve'))) {
      // Another order took the stock since it was read: this attempt rolls back, and the retry
      // reads again (and rejects, or reserves what is left).
      throw new JunctionError('state.conflict', `the stock of order ${orderId}'s SKUs changed while it was reserved; trying again`, {
        retriable: true,
      });
    }
  };

  const release = async (ctx: EventContext<{ orderId: string }>) => {
    const tx = ctx.tx as Queryable;
    const orderId = ctx.event?.data.orderId ?? '';
    const { rows } = await tx.query("SELECT lines FROM reservations WHERE order_id = $1 AND status = 'held' FOR UPDATE", [orderId]);
    const held = rows[0] as { lines: WantedLine[] | string } | undefined;
    if (!held) return;
    const lines = typeof held.lines === 'string' ? (JSON.parse(held.lines) as WantedLine[]) : held.lines;
    await tx.query("UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1", [orderId]);
    await moveStock(tx, totalsBySku(lines), 'release');
  };

  return {
    handlers: {
      'com.junction.orders.OrderPlaced': reserve,
      'com.junction.orders.OrderCancelled': release,
    },
  };
}
