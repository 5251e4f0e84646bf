import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JunctionError, type ServiceDefinition, webhookMetrics } from '@junction/service';
import { notificationsApi } from './api.ts';
import { notificationsConfig } from './config.ts';
import { addressPolicy } from './delivery/address-policy.ts';
import { createDispatcher, type Dispatcher } from './dispatcher/dispatcher.ts';
import { fanOutSubscription, webhookEventTypes } from './fanout.ts';
import { subscriptionRoutes } from './routes.ts';
import { webhookSnapshot } from './store.ts';

/**
 * The notifications service: downstream teams' webhook subscriptions, and every matching event
 * delivered to them signed, retried and (where asked) in key order. Its dispatcher is made when
 * the kit builds its workers, after the routes and the fan-out that wake it.
 */
export const notificationsService: ServiceDefinition<typeof notificationsConfig.shape> = {
  name: 'notifications',
  defaultPort: 8104,
  config: notificationsConfig,
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  api: notificationsApi,
  ...wiring(),
};

/** Routes, fan-out and dispatcher share one dispatcher per started service. */
function wiring(): Pick<ServiceDefinition<typeof notificationsConfig.shape>, 'routes' | 'subscriptions' | 'workers'> {
  const dispatchers = new WeakMap<object, Dispatcher>();
  const dispatcherOf = (service: Parameters<NonNullable<ServiceDefinition<typeof notificationsConfig.shape>['workers']>>[0]) => {
    let dispatcher = dispatchers.get(service);
    if (!dispatcher) {
      let policy: ReturnType<typeof addressPolicy>;
      try {
        policy = addressPolicy(service.own.JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES);
      } catch (error) {
        throw new JunctionError('config.invalid', `JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: ${(error as Error).message}`);
      }
      const caFile = service.own.JUNCTION_NOTIFICATIONS_CA_FILE;
      const metrics = webhookMetrics(service.metrics, () => webhookSnapshot(service.db));
      dispatcher = createDispatcher(service, { policy, metrics, ...(caFile ? { ca: readFileSync(caFile) } : {}) });
      dispatchers.set(service, dispatcher);
    }
    return dispatcher;
  };
  return {
    routes: (router, service) => {
      const dispatcher = dispatcherOf(service);
      subscriptionRoutes(router, service, {
        eventTypes: webhookEventTypes(service.catalog),
        wake: () => dispatcher.wake(),
        reset: (id) => dispatcher.reset(id),
      });
    },
    subscriptions: (service) => [fanOutSubscription(service.db, service.catalog, (ids) => dispatcherOf(service).wake(ids))],
    workers: (service) => [dispatcherOf(service)],
  };
}
