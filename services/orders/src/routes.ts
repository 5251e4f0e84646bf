import { createHash, randomUUID } from 'node:crypto';
import {
  callerOf,
  idempotencyKeyOf,
  JunctionError,
  orderKpis,
  parseInput,
  type Request,
  type Response,
  type Router,
  requireCaller,
  type ServiceContext,
  uuidv7,
} from '@junction/service';
import { z } from 'zod';
import { cancelOrderBody, checkOrder, nextStatus, type PlaceOrderBody, placeOrderBody } from './domain/order.ts';
import { insertOrder, listOrders, lockOrder, moveOrder, readOrder } from './domain/store.ts';

/** JSON with its keys sorted at every level: the same request hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The OrderPlaced event of a new order, as the contract (v2) has it. */
function orderPlaced(orderId: string, body: PlaceOrderBody, placedAt: Date) {
  return {
    orderId,
    customerId: body.customerId,
    customerEmail: body.customerEmail,
    shippingAddress: { ...body.shippingAddress, line2: body.shippingAddress.line2 ?? null },
    lines: body.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
    total: body.total,
    currency: body.currency,
    couponCode: body.couponCode ?? null,
    placedAt,
  };
}

/** `GET /orders`: up to 100 orders by id (`?id=…&id=…`), or the caller's most recent. */
const listQuery = z
  .object({
    id: z
      .union([z.uuid(), z.array(z.uuid()).min(1).max(100)])
      .transform((ids) => (Array.isArray(ids) ? ids : [ids]))
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

/** `POST /orders`, `GET /orders`, `GET /orders/:id`, `POST /orders/:id/cancel`: every one for the caller the gateway names. */
export function orderRoutes(router: Router, service: ServiceContext<unknown>): void {
  const kpis = orderKpis(service.metrics);
  const caller = (req: Request): string => callerOf(req) ?? '';
  const show = async (res: Response, orderId: string, clientId: string, status: number) => {
    const order = await readOrder(service.db, orderId, clientId);
    res.status(status).json(order);
  };

  router.post('/orders', requireCaller(), async (req, res) => {
    const key = idempotencyKeyOf(req, { required: 'a retry with the same key returns the same order' });
    const body = parseInput(placeOrderBody, req.body);
    const problems = checkOrder(body);
    if (problems.length > 0) {
      throw new JunctionError(
        'request.unprocessable',
        `the order breaks ${problems.length} rule(s): ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
        {
          context: { fields: problems },
        },
      );
    }
    const clientId = caller(req);
    const hash = createHash('sha256').update(canonical(body)).digest('hex');
    const outcome = await service.transaction(async (tx) => {
      const orderId = randomUUID();
      const placedAt = new Date();
      // The event's id is chosen first, so the order, its history and its key go in one statement.
      const eventId = uuidv7();
      const order = await insertOrder(tx, {
        orderId,
        clientId,
        idempotencyKey: key,
        requestHash: hash,
        customerId: body.customerId,
        total: body.total,
        currency: body.currency,
        lines: body.lines,
        body,
        placedAt,
        eventId,
      });
      if (!order) {
        const { rows } = await tx.query(
          'SELECT request_hash, order_id FROM idempotency_keys WHERE client_id = $1 AND idempotency_key = $2',
          [clientId, key],
        );
        const earlier = rows[0] as { request_hash: string; order_id: string };
        if (earlier.request_hash !== hash) {
          throw new JunctionError(
            'idempotency.conflict',
            `Idempotency-Key ${key} was used for another order; use a new key for a new order`,
          );
        }
        return { orderId: earlier.order_id, replayed: true as const };
      }
      await service.outbox.add(tx, {
        type: 'com.junction.orders.OrderPlaced',
        data: orderPlaced(orderId, body, placedAt),
        options: { id: eventId },
      });
      return { orderId, replayed: false as const, order };
    });
    res.setHeader('location', `/orders/${outcome.orderId}`);
    if (outcome.replayed) {
      // A replay of the key took no new order: it shows the order as it is now.
      res.setHeader('idempotent-replayed', 'true');
      await show(res, outcome.orderId, clientId, 200);
      return;
    }
    // Committed by now: the order is exactly as stored, so it is not read back.
    kpis.placed();
    res.status(201).json(outcome.order);
  });

  router.get('/orders', requireCaller(), async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const orders = await listOrders(service.db, caller(req), query.id ? { orderIds: query.id } : { limit: query.limit });
    res.json({ orders });
  });

  router.get('/orders/:id', requireCaller(), async (req, res) => {
    const orderId = String(req.params.id);
    const order = z.uuid().safeParse(orderId).success ? await readOrder(service.db, orderId, caller(req)) : undefined;
    if (!order) throw new JunctionError('route.unknown', `no order ${orderId}`);
    res.json(order);
  });

  router.post('/orders/:id/cancel', requireCaller(), async (req, res) => {
    const orderId = String(req.params.id);
    const { reason } = parseInput(cancelOrderBody, req.body);
    const clientId = caller(req);
    await service.transaction(async (tx) => {
      const order = z.uuid().safeParse(orderId).success ? await lockOrder(tx, orderId) : undefined;
      if (!order || order.clientId !== clientId) throw new JunctionError('route.unknown', `no order ${orderId}`);
      const next = nextStatus(order.status, 'cancel');
      if (!next) throw new JunctionError('state.conflict', `order ${orderId} is ${order.status}; it cannot be cancelled again`);
      const why = reason ?? 'cancelled by the customer';
      const event = await service.outbox.add(tx, {
        type: 'com.junction.orders.OrderCancelled',
        data: { orderId, reason: why, cancelledBy: 'customer', cancelledAt: new Date() },
      });
      await moveOrder(tx, { orderId, status: next, event: 'OrderCancelled', eventId: event.id, detail: why, cancelReason: why });
    });
    // Committed: a second cancel is a 409 above and never gets here.
    kpis.cancelled('customer');
    await show(res, orderId, clientId, 200);
  });
}
