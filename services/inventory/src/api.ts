import type { ServiceApi } from '@junction/service';
import { z } from 'zod';

/** What a SKU may be: a plain code, not starting with a dot. Anything else names no item (404) without asking the database. */
export const SKU = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** Units received for a SKU: a whole number, at least one, at most a million at a time. */
export const restockBody = z.object({ quantity: z.number().int().min(1).max(1_000_000) }).strict();

/** Stock of a SKU never passes this (the column is a 32-bit integer). */
export const MAX_AVAILABLE = 2_147_483_647;

const item = z
  .object({
    sku: z.string(),
    name: z.string(),
    available: z.number().int().min(0).describe('Units that may still be reserved'),
    reserved: z.number().int().min(0).describe('Units held for orders'),
  })
  .strict();

/** The inventory service's routes, described: what `routes.ts` mounts, checked by the kit at start. */
export const inventoryApi: ServiceApi = {
  description: 'Stock as it stands: the catalogue, and each item with what is available and reserved.',
  operations: [
    {
      method: 'get',
      path: '/inventory/items',
      operationId: 'listItems',
      summary: 'Every item of the catalogue, by SKU',
      responses: { 200: { description: 'The items', body: z.object({ items: z.array(item) }).strict() } },
    },
    {
      method: 'get',
      path: '/inventory/items/:sku',
      operationId: 'getItem',
      summary: 'One item',
      params: { sku: { description: 'Its SKU, e.g. BOOK-0001', schema: z.string().regex(SKU) } },
      responses: {
        200: { description: 'The item', body: item },
        404: { description: 'No item with this SKU', body: 'problem' },
      },
    },
    {
      method: 'post',
      path: '/inventory/items/:sku/restock',
      operationId: 'restockItem',
      summary: 'Goods received: add units to what is available',
      params: { sku: { description: 'Its SKU, e.g. BOOK-0001', schema: z.string().regex(SKU) } },
      body: { schema: restockBody, required: true, example: { quantity: 50 } },
      responses: {
        200: { description: 'The item, restocked', body: item },
        400: { description: 'A body of the wrong shape: `errors` names every failing field', body: 'problem' },
        404: { description: 'No item with this SKU', body: 'problem' },
        422: { description: `The item would hold more than ${MAX_AVAILABLE} units`, body: 'problem' },
      },
    },
  ],
};
