import { fileURLToPath } from 'node:url';
import { sampleEvent } from '@junction/events/testing';
import { JunctionError } from '@junction/observability';
import { z } from 'zod';
import { requireCaller } from '../http.ts';
import type { ServiceDefinition } from '../service.ts';

const MIGRATIONS = fileURLToPath(new URL('./sample-migrations', import.meta.url));

/**
 * A service built on the kit the way a domain service is, for the kit's tests: `POST /orders`
 * stores an order and its `OrderPlaced` in one transaction; a subscription counts each
 * `OrderPlaced` it handles in the same transaction as its inbox row (after holding that
 * transaction `SAMPLE_HANDLER_SLEEP_MS`, when set: a slow handler), `SAMPLE_CONCURRENCY` at once.
 * With `SAMPLE_STOP_ORDER`, a worker places that order as it stops: what a worker commits while
 * stopping must still be stored and published.
 */
export function sampleService(name: string): ServiceDefinition {
  return {
    name,
    defaultPort: 0,
    config: z.object({
      SAMPLE_GREETING: z.string().min(1).default('hello'),
      SAMPLE_HANDLER_SLEEP_MS: z.coerce.number().int().min(0).max(60_000).default(0),
      SAMPLE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
      SAMPLE_STOP_ORDER: z.uuid().optional(),
    }),
    migrations: MIGRATIONS,
    routes: (router, service) => {
      router.post('/orders', requireCaller(), async (req, res) => {
        const orderId = String((req.body as { orderId?: unknown }).orderId ?? '');
        if (!z.uuid().safeParse(orderId).success) {
          throw new JunctionError('request.invalid', 'orderId must be a UUID', {
            context: { fields: [{ path: 'orderId', reason: 'not a UUID' }] },
          });
        }
        await service.transaction(async (tx) => {
          await tx.query('INSERT INTO placed (order_id, placed_by) VALUES ($1, $2)', [orderId, req.headers['x-junction-client']]);
          await service.outbox.add(tx, {
            type: 'com.junction.orders.OrderPlaced',
            data: sampleEvent('com.junction.orders.OrderPlaced', orderId),
          });
        });
        res.status(201).json({ orderId, greeting: service.own.SAMPLE_GREETING });
      });
      router.get('/orders/:id', async (req, res) => {
        const { rows } = await service.db.query('SELECT order_id, placed_by FROM placed WHERE order_id = $1', [req.params.id]);
        if (rows.length === 0) throw new JunctionError('route.unknown', `no order ${req.params.id}`);
        res.json(rows[0]);
      });
    },
    workers: (service) => {
      const stopOrder = (service.own as { SAMPLE_STOP_ORDER?: string }).SAMPLE_STOP_ORDER;
      if (!stopOrder) return [];
      let started = false;
      return [
        {
          name: 'stopper',
          async start() {
            started = true;
          },
          async stop() {
            if (!started) return;
            await service.transaction(async (tx) => {
              await tx.query('INSERT INTO placed (order_id, placed_by) VALUES ($1, $2)', [stopOrder, 'worker']);
              await service.outbox.add(tx, {
                type: 'com.junction.orders.OrderPlaced',
                data: sampleEvent('com.junction.orders.OrderPlaced', stopOrder),
              });
            });
          },
        },
      ];
    },
    subscriptions: (service) => [
      {
        concurrency: Number((service.own as { SAMPLE_CONCURRENCY?: number }).SAMPLE_CONCURRENCY ?? 8),
        handlers: {
          'com.junction.orders.OrderPlaced': async (ctx) => {
            const data = ctx.event?.data as { orderId: string };
            const sleepMs = Number((service.own as { SAMPLE_HANDLER_SLEEP_MS?: number }).SAMPLE_HANDLER_SLEEP_MS ?? 0);
            if (sleepMs > 0) await ctx.tx?.query('SELECT pg_sleep($1::float8)', [sleepMs / 1000]);
            await ctx.tx?.query('INSERT INTO handled (event_id, order_id) VALUES ($1, $2)', [ctx.event?.id, data.orderId]);
          },
        },
      },
    ],
  };
}
