import { JunctionError, type Router, type ServiceContext } from '@junction/service';
import { SKU } from './api.ts';

interface ItemRow {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

const view = (row: ItemRow) => ({ sku: row.sku, name: row.name, available: Number(row.available), reserved: Number(row.reserved) });

/** `GET /inventory/items` and `GET /inventory/items/:sku`: stock as it stands. */
export function inventoryRoutes(router: Router, service: ServiceContext<unknown>): void {
  router.get('/inventory/items', async (_req, res) => {
    const { rows } = await service.db.query('SELECT sku, name, available, reserved FROM items ORDER BY sku');
    res.json({ items: (rows as ItemRow[]).map(view) });
  });
  router.get('/inventory/items/:sku', async (req, res) => {
    const sku = String(req.params.sku);
    // A NUL would fail the query (PostgreSQL text cannot hold one): a SKU that cannot exist is asked of nobody.
    const { rows } = SKU.test(sku)
      ? await service.db.query('SELECT sku, name, available, reserved FROM items WHERE sku = $1', [sku])
      : { rows: [] };
    const row = rows[0] as ItemRow | undefined;
    if (!row) throw new JunctionError('route.unknown', `no item ${sku}`);
    res.json(view(row));
  });
}
