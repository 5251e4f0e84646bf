import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@junction/service';
import { inventoryApi } from './api.ts';
import { stockSubscription } from './handlers.ts';
import { inventoryRoutes } from './routes.ts';

/** The inventory service: a seeded catalogue, stock reserved for orders and released when they are cancelled. */
export const inventoryService: ServiceDefinition = {
  name: 'inventory',
  defaultPort: 8102,
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  routes: (router, service) => inventoryRoutes(router, service),
  api: inventoryApi,
  subscriptions: (service) => [stockSubscription(service)],
};
