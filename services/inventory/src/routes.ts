import { JunctionError, parseInput, type Router, type ServiceContext } from '@junction/service';
import { z } from 'zod';

interface ItemRow {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

const view = (row: ItemRow) => ({ sku: row.sku, name: row.name, available: Number(row.available), reserved: Number(row.reserved) });

/** Units received for a SKU: a whole number, at least one, at most a million at a time. */
const restockBody = z.object({ quantity: z.number().int().min(1).max(1_000_000) }).strict();

/** Stock of a SKU never passes this (the column is a 32-bit integer). */
const MAX_AVAILABLE = 2_147_483_647;

/**
 * `GET /inventory/items` and `GET /inventory/items/:sku`: stock as it stands;
 * `POST /inventory/items/:sku/restock`: goods received, added to what is available.
 */
export function inventoryRoutes(router: Router, service: ServiceContext<unknown>): void {
  router.get('/inventory/items', async (_req, res) => {
    const { rows } = await service.db.query('SELECT sku, name, available, reserved FROM items ORDER BY sku');
    res.json({ items: (rows as ItemRow[]).map(view) });
  });
  router.get('/inventory/items/:sku', async (req, res) => {
    const { rows } = await service.db.query('SELECT sku, name, available, reserved FROM items WHERE sku = $1', [req.params.sku]);
    const row = rows[0] as ItemRow | undefined;
    if (!row) throw new JunctionError('route.unknown', `no item ${String(req.params.sku)}`);
    res.json(view(row));
  });
  router.post('/inventory/items/:sku/restock', async (req, res) => {
    const { quantity } = parseInput(restockBody, req.body);
    const sku = String(req.params.sku);
    const row = await service.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT sku, name, available, reserved FROM items WHERE sku = $1 FOR UPDATE', [sku]);
      const item = rows[0] as ItemRow | undefined;
      if (!item) throw new JunctionError('route.unknown', `no item ${sku}`);
      if (Number(item.available) + quantity > MAX_AVAILABLE) {
        throw new JunctionError('request.unprocessable', `${sku} would hold more than ${MAX_AVAILABLE} units`, {
          context: { fields: [{ path: 'quantity', reason: `at most ${MAX_AVAILABLE - Number(item.available)} more` }] },
        });
      }
      const updated = await tx.query(
        'UPDATE items SET available = available + $2 WHERE sku = $1 RETURNING sku, name, available, reserved',
        [sku, quantity],
      );
      return updated.rows[0] as ItemRow;
    });
    res.json(view(row));
  });
}
