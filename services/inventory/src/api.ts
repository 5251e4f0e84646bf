import type { ServiceApi } from '@junction/service';
import { z } from 'zod';

/** What a SKU may be: a plain code, not starting with a dot. Anything else names no item (404) without asking the database. */
export const SKU = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

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
  ],
};
