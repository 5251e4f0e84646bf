import type { Queryable } from '@junction/service';
import type { OrderStatus } from './order.ts';

/** An order as `GET /orders/:id` shows it. */
export interface OrderView {
  orderId: string;
  status: OrderStatus;
  customerId: string;
  total: string;
  currency: string;
  lines: Array<{ sku: string; quantity: number; unitPrice: string }>;
  cancelReason: string | null;
  placedAt: string;
  updatedAt: string;
  history: Array<{ event: string; eventId: string; status: OrderStatus; detail: string | null; at: string }>;
}

interface OrderRow {
  order_id: string;
  status: OrderStatus;
  customer_id: string;
  total: string;
  currency: string;
  body: { lines: OrderView['lines'] } | string;
  cancel_reason: string | null;
  placed_at: Date | string;
  updated_at: Date | string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/** The order `orderId` of `clientId` with its history, or undefined: a client sees only its own orders. */
export async function readOrder(db: Queryable, orderId: string, clientId: string): Promise<OrderView | undefined> {
  const { rows } = await db.query(
    `SELECT order_id, status, customer_id, total::text AS total, currency, body, cancel_reason, placed_at, updated_at
       FROM orders WHERE order_id = $1 AND client_id = $2`,
    [orderId, clientId],
  );
  const row = rows[0] as OrderRow | undefined;
  if (!row) return undefined;
  const history = await db.query('SELECT event, event_id, status, detail, at FROM order_history WHERE order_id = $1 ORDER BY id', [
    orderId,
  ]);
  const body = typeof row.body === 'string' ? (JSON.parse(row.body) as { lines: OrderView['lines'] }) : row.body;
  return {
    ...summary(row),
    lines: body.lines,
    history: (
      history.rows as Array<{ event: string; event_id: string; status: OrderStatus; detail: string | null; at: Date | string }>
    ).map((h) => ({ event: h.event, eventId: h.event_id, status: h.status, detail: h.detail, at: iso(h.at) })),
  };
}

/** A new order as `POST /orders` stores it. */
export interface NewOrder {
  orderId: string;
  clientId: string;
  idempotencyKey: string;
  requestHash: string;
  customerId: string;
  total: string;
  currency: string;
  lines: OrderView['lines'];
  /** The request as received, kept with the order. */
  body: unknown;
  placedAt: Date;
  /** `ce_id` of its OrderPlaced, the first entry of its history. */
  eventId: string;
}

/**
 * Claims the caller's Idempotency-Key and stores the order with the first entry of its history,
 * in one statement. Returns the order as `GET /orders/:id` would show it, or undefined when the
 * key was claimed before (and nothing is stored).
 */
export async function insertOrder(tx: Queryable, order: NewOrder): Promise<OrderView | undefined> {
  const { rows } = await tx.query(
    `WITH claim AS (
       INSERT INTO idempotency_keys (client_id, idempotency_key, request_hash, order_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (client_id, idempotency_key) DO NOTHING RETURNING order_id),
     stored AS (
       INSERT INTO orders (order_id, client_id, customer_id, status, total, currency, body, placed_at, updated_at)
       SELECT order_id, $1, $5, 'placed', $6, $7, $8, $9, $9 FROM claim
       RETURNING order_id, status, customer_id, total::text AS total, currency, cancel_reason, placed_at, updated_at),
     history AS (
       INSERT INTO order_history (order_id, event, event_id, status)
       SELECT order_id, 'OrderPlaced', $10, 'placed' FROM claim RETURNING at)
     SELECT stored.*, history.at FROM stored, history`,
    [
      order.clientId,
      order.idempotencyKey,
      order.requestHash,
      order.orderId,
      order.customerId,
      order.total,
      order.currency,
      JSON.stringify(order.body),
      order.placedAt,
      order.eventId,
    ],
  );
  const row = rows[0] as (Omit<OrderRow, 'body'> & { at: Date | string }) | undefined;
  if (!row) return undefined;
  return {
    ...summary(row),
    lines: order.lines,
    history: [{ event: 'OrderPlaced', eventId: order.eventId, status: 'placed', detail: null, at: iso(row.at) }],
  };
}

/** An order as `GET /orders` lists it: its state, without lines or history. */
export type OrderSummary = Pick<
  OrderView,
  'orderId' | 'status' | 'customerId' | 'total' | 'currency' | 'cancelReason' | 'placedAt' | 'updatedAt'
>;

const summary = (row: Omit<OrderRow, 'body'>): OrderSummary => ({
  orderId: row.order_id,
  status: row.status,
  customerId: row.customer_id,
  total: row.total,
  currency: row.currency.trim(),
  cancelReason: row.cancel_reason,
  placedAt: iso(row.placed_at),
  updatedAt: iso(row.updated_at),
});

/**
 * Orders of `clientId`: those of `orderIds` that exist (in no particular order), or without ids
 * its `limit` most recently placed, newest first.
 */
export async function listOrders(
  db: Queryable,
  clientId: string,
  select: { orderIds: readonly string[] } | { limit: number },
): Promise<OrderSummary[]> {
  const columns = 'order_id, status, customer_id, total::text AS total, currency, cancel_reason, placed_at, updated_at';
  const { rows } =
    'orderIds' in select
      ? await db.query(`SELECT ${columns} FROM orders WHERE client_id = $1 AND order_id = ANY($2::uuid[])`, [clientId, select.orderIds])
      : await db.query(`SELECT ${columns} FROM orders WHERE client_id = $1 ORDER BY placed_at DESC, order_id LIMIT $2`, [
          clientId,
          select.limit,
        ]);
  return (rows as Array<Omit<OrderRow, 'body'>>).map(summary);
}

/** An order's row as a change to it needs it, locked for the transaction. */
export interface LockedOrder {
  status: OrderStatus;
  clientId: string;
  /** The total as the database holds it, e.g. "28.20". */
  total: string;
  currency: string;
  placedAt: Date;
}

/** Locks an order's row for this transaction and returns what a change needs; undefined when there is none. */
export async function lockOrder(tx: Queryable, orderId: string): Promise<LockedOrder | undefined> {
  const { rows } = await tx.query(
    'SELECT status, client_id, total::text AS total, currency, placed_at FROM orders WHERE order_id = $1 FOR UPDATE',
    [orderId],
  );
  const row = rows[0] as (Pick<OrderRow, 'status' | 'total' | 'currency' | 'placed_at'> & { client_id: string }) | undefined;
  return row
    ? { status: row.status, clientId: row.client_id, total: row.total, currency: row.currency.trim(), placedAt: new Date(row.placed_at) }
    : undefined;
}

/** Moves an order to `status` and records the event that moved it, in one statement. */
export async function moveOrder(
  tx: Queryable,
  change: { orderId: string; status: OrderStatus; event: string; eventId: string; detail?: string; cancelReason?: string },
): Promise<void> {
  await tx.query(
    `WITH moved AS (
       UPDATE orders SET status = $2, updated_at = now(), cancel_reason = COALESCE($3, cancel_reason) WHERE order_id = $1
       RETURNING order_id)
     INSERT INTO order_history (order_id, event, event_id, status, detail) SELECT order_id, $4, $5, $2, $6 FROM moved`,
    [change.orderId, change.status, change.cancelReason ?? null, change.event, change.eventId, change.detail ?? null],
  );
}

/**
 * Moves an order to `to` if its status is one of `from`, and records the event that moved it, in
 * one statement: the update waits for a concurrent change of the order and checks its status
 * again afterwards. Returns what a change needs of the order, or undefined when it did not move
 * (past that step, or unknown: see {@link orderExists}).
 */
export async function advanceOrder(
  tx: Queryable,
  change: { orderId: string; from: readonly OrderStatus[]; to: OrderStatus; event: string; eventId: string; detail?: string },
): Promise<Omit<LockedOrder, 'status'> | undefined> {
  const { rows } = await tx.query(
    `WITH moved AS (
       UPDATE orders SET status = $2, updated_at = now(), cancel_reason = COALESCE($6, cancel_reason)
        WHERE order_id = $1 AND status = ANY($3::text[])
       RETURNING order_id, client_id, total::text AS total, currency, placed_at),
     history AS (
       INSERT INTO order_history (order_id, event, event_id, status, detail) SELECT order_id, $4, $5, $2, $6 FROM moved)
     SELECT client_id, total, currency, placed_at FROM moved`,
    [change.orderId, change.to, change.from, change.event, change.eventId, change.detail ?? null],
  );
  const row = rows[0] as { client_id: string; total: string; currency: string; placed_at: Date | string } | undefined;
  return row ? { clientId: row.client_id, total: row.total, currency: row.currency.trim(), placedAt: new Date(row.placed_at) } : undefined;
}

/** Whether orders knows the order at all. */
export async function orderExists(db: Queryable, orderId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM orders WHERE order_id = $1', [orderId])).rows.length > 0;
}
