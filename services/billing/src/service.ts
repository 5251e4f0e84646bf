import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@junction/service';
import { z } from 'zod';
import { billingApi } from './api.ts';
import { paymentSubscription } from './handlers.ts';
import { billingRoutes } from './routes.ts';

const config = z.object({
  /** The payment provider (locally its stand-in, services/payment-provider-standin). */
  JUNCTION_BILLING_PROVIDER_URL: z.url().default('http://127.0.0.1:8190'),
});

/** The billing service: charges orders whose stock is reserved, refunds those cancelled afterwards. */
export const billingService: ServiceDefinition<typeof config.shape> = {
  name: 'billing',
  defaultPort: 8103,
  config,
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  routes: (router, service) => billingRoutes(router, service),
  api: billingApi,
  subscriptions: (service) => [paymentSubscription(service)],
  // A provider call gets 5 s, two retries with the same Idempotency-Key, and a breaker.
  outbound: { defaults: { timeoutMs: 5000, retries: 2, breaker: { failureThreshold: 5, openMs: 10_000 } } },
};
