import { JunctionError, parseInput, type Router, type ServiceContext } from '@junction/service';
import { MAX_AVAILABLE, restockBody, SKU } from './api.ts';

interface ItemRow {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

/** The request's `:sku`, or a 404 for one that cannot name an item (a NUL would fail the query: PostgreSQL text cannot hold one). */
function skuOf(params: Record<string, unknown>): string {
  const sku = String(params.sku);
  if (!SKU.test(sku)) throw new JunctionError('route.unknown', `no item ${sku}`);
  return sku;
}

const view = (row: ItemRow) => ({ sku: row.sku, name: row.name, available: Number(row.available), reserved: Number(row.reserved) });

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
    const sku = skuOf(req.params);
    const { rows } = await service.db.query('SELECT sku, name, available, reserved FROM items WHERE sku = $1', [sku]);
    const row = rows[0] as ItemRow | undefined;
    if (!row) throw new JunctionError('route.unknown', `no item ${sku}`);
    res.json(view(row));
  });
  router.post('/inventory/items/:sku/restock', async (req, res) => {
    const { quantity } = parseInput(restockBody, req.body);
    const sku = skuOf(req.params);
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
