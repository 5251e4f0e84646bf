import { createHttpClient, type HttpClient } from '@junction/http';
import type { Logger } from '@junction/observability';
import type { MountedProxy } from '../app.ts';
import { readGatewayConfig } from '../config.ts';
import { descriptionUrlOf, gatewayPathOf, proxyHandler } from './handler.ts';
import { clientOptionsOf, loadRouteTable } from './route-table.ts';

/** The route table's proxies, ready for `createGatewayApp`, and the way to close their connections. */
export type MountedRouteTable = MountedProxy[] & {
  /** The outbound client every route shares. */
  readonly client: HttpClient;
  /** Closes the client's pooled connections (after the HTTP server stopped taking requests). */
  close(): Promise<void>;
};

/** Options of {@link mountRouteTable}. */
export interface MountRouteTableOptions {
  /** Default: `JUNCTION_GATEWAY_ROUTES`, else services/gateway/routes.yaml. */
  file?: string;
  /** Told when an upstream's breaker opens, half-opens or closes. */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/**
 * Loads the route table and makes one proxy per route, all sharing one outbound client: one
 * connection pool and one breaker per upstream origin.
 */
export async function mountRouteTable(options: MountRouteTableOptions = {}): Promise<MountedRouteTable> {
  const table = loadRouteTable(options.file ?? readGatewayConfig().routesFile);
  const client = createHttpClient({
    ...clientOptionsOf(table),
    onCircuitChange: (upstream, state, previous) => {
      const log = state === 'open' ? options.logger?.warn : options.logger?.info;
      log?.(`the breaker of ${upstream} is ${state}`, { upstream, state, previous });
    },
  });
  const proxies = table.routes.map((route) => ({
    prefix: route.prefix,
    name: route.name,
    scopes: route.scopes,
    handler: proxyHandler(route, client),
    api: { url: descriptionUrlOf(route), gatewayPath: (servicePath: string) => gatewayPathOf(route, servicePath) },
  }));
  return Object.assign(proxies, { client, close: () => client.close() });
}
