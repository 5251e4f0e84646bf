import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@junction/service';
import { ordersApi } from './api.ts';
import { sagaSubscription } from './handlers.ts';
import { orderRoutes } from './routes.ts';

/**
 * The orders service: takes orders (`POST /orders`, through the gateway as `/v1/orders`), keeps
 * each with its history, and follows the saga to `confirmed` or `cancelled`.
 */
export const ordersService: ServiceDefinition = {
  name: 'orders',
  defaultPort: 8101,
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  routes: (router, service) => orderRoutes(router, service),
  api: ordersApi,
  subscriptions: (service) => [sagaSubscription(service)],
};
