import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLocalCa, issueCertificate, type Stack } from '@junction/stack';
import { repositoryRoot } from './paths.ts';
import { localPiiEnv, PII_KEY_VARIABLES } from './pii.ts';
import { type ServiceProcess, startService } from './services.ts';

/** Where each process of the order flow listens. */
export interface FlowPorts {
  gateway: number;
  auth: number;
  orders: number;
  inventory: number;
  billing: number;
  /** The payment provider stand-in. */
  provider: number;
  /** The webhooks of downstream teams; not started when absent (`bench flow` measures the order flow alone). */
  notifications?: number;
}

/** DESIGN.md's ports, which `up` uses unless told otherwise. */
export const DEFAULT_FLOW_PORTS: Required<FlowPorts> = {
  gateway: 8080,
  auth: 8090,
  orders: 8101,
  inventory: 8102,
  billing: 8103,
  notifications: 8104,
  provider: 8190,
};

/** The business services, each with its port in {@link FlowPorts} (the committed route table names the defaults). */
const BUSINESS = ['orders', 'inventory', 'billing'] as const;

/**
 * The business services that hold the PII keys: orders encrypts OrderPlaced's personal fields,
 * and notifications sends them in clear to subscriptions whose owner holds `notifications:pii`.
 * Inventory and billing read other fields of it only, so they get no key and decrypt nothing (a
 * consumer that does not need personal data never holds the key).
 */
export const HOLDS_PERSONAL_DATA: ReadonlySet<string> = new Set(['orders', 'notifications']);

/** Options of {@link startFlow}. */
export interface FlowOptions {
  ports: FlowPorts;
  /** Serve the auth server and the gateway over HTTPS with certificates of the stack's local CA. */
  https?: boolean;
  /** The stand-in's settings (`PAYMENT_STANDIN_LATENCY_MS`, `…_FAILURE_RATE`). */
  providerEnv?: Record<string, string>;
  /** More variables for the gateway (`JUNCTION_GATEWAY_RATE_LIMIT_…`). */
  gatewayEnv?: Record<string, string>;
}

/** The processes of the order flow, started in dependency order; `services[0]` is auth, `[1]` the gateway. */
export interface Flow {
  services: ServiceProcess[];
  auth: ServiceProcess;
  gateway: ServiceProcess;
  /** The CA the HTTPS endpoints' certificates chain to. */
  caFile?: string;
  /** Stops every process, the last started first. */
  stop(): Promise<void>;
}

/**
 * The gateway's route table with each business service at the port it runs on: the committed
 * table names DESIGN.md's defaults, and a service moved with a flag must be found all the same.
 */
async function routesFor(ports: FlowPorts, dir: string): Promise<string> {
  let table = await readFile(join(repositoryRoot(), 'services/gateway/routes.yaml'), 'utf8');
  for (const name of [...BUSINESS, 'notifications'] as const) {
    const port = ports[name];
    if (port !== undefined) table = table.replaceAll(`http://127.0.0.1:${DEFAULT_FLOW_PORTS[name]}`, `http://127.0.0.1:${port}`);
  }
  const file = join(dir, 'gateway-routes.yaml');
  await mkdir(dir, { recursive: true });
  await writeFile(file, table);
  return file;
}

async function stopAll(services: readonly ServiceProcess[]): Promise<void> {
  for (const service of [...services].reverse()) await service.stop();
}

/**
 * Starts the payment provider stand-in and the business services, each its own process: its
 * database schema on the stack's PostgreSQL (or, without one, a PGlite directory in the state
 * directory), the stack's Kafka and registry, the local PII keys.
 */
async function startBusiness(stack: Stack, options: FlowOptions, logs: string): Promise<ServiceProcess[]> {
  const provider = `http://127.0.0.1:${options.ports.provider}`;
  const standin = await startService({
    name: 'payment-provider-standin',
    url: provider,
    readyPath: '/healthz',
    logFile: join(logs, 'payment-provider-standin.log'),
    env: { PAYMENT_STANDIN_PORT: String(options.ports.provider), ...options.providerEnv },
  });
  const pii = await localPiiEnv(stack.stateDir);
  // All settle before anything is judged: a service that fails must not leave the others it
  // started beside it running.
  const ports = options.ports;
  const names: Array<(typeof BUSINESS)[number] | 'notifications'> = [...BUSINESS];
  if (options.ports.notifications !== undefined) names.push('notifications');
  const settled = await Promise.allSettled(
    names.map((name) => {
      const prefix = `JUNCTION_${name.toUpperCase()}`;
      return startService({
        name,
        url: `http://127.0.0.1:${ports[name]}`,
        readyPath: '/readyz',
        logFile: join(logs, `${name}.log`),
        env: {
          [`${prefix}_PORT`]: String(ports[name]),
          [`${prefix}_DATA_DIR`]: join(stack.stateDir, 'services', name),
          JUNCTION_KAFKA_BROKERS: stack.brokers.join(','),
          ...(stack.security ? stack.security.env(name) : {}),
          ...(stack.schemaRegistryUrl ? { JUNCTION_SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl } : {}),
          ...(stack.postgresUrl ? { JUNCTION_POSTGRES_URL: stack.postgresUrl } : {}),
          ...(name === 'billing' ? { JUNCTION_BILLING_PROVIDER_URL: provider } : {}),
          // Locally, webhooks go to receivers on this machine (./junction webhooks listen), over http.
          ...(name === 'notifications'
            ? { JUNCTION_NOTIFICATIONS_ALLOW_HTTP: 'true', JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: '127.0.0.1' }
            : {}),
          ...(HOLDS_PERSONAL_DATA.has(name) ? pii : {}),
        },
        // Nor the keys this CLI's own environment may carry.
        ...(HOLDS_PERSONAL_DATA.has(name) ? {} : { withhold: PII_KEY_VARIABLES }),
      });
    }),
  );
  const running = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll([standin, ...running]);
    throw failure.reason;
  }
  return [standin, ...running];
}

/**
 * Starts the order flow beside `stack`: the auth server, the payment provider stand-in, orders,
 * inventory and billing, then the gateway in front of them, as child processes that end with this
 * command. With `https`, auth and the gateway serve certificates of the stack's local CA (client
 * secrets and tokens then never cross a socket in clear), and the gateway trusts that CA. Whatever
 * fails to start, what did start is stopped again.
 */
export async function startFlow(stack: Stack, options: FlowOptions): Promise<Flow> {
  const { ports } = options;
  const logs = join(stack.stateDir, 'logs');
  let tls: { certFile: string; keyFile: string; caFile: string } | undefined;
  if (options.https) {
    // The CA a secure stack's brokers use too, so one file is all a client trusts.
    const dir = join(stack.stateDir, 'secrets', 'tls');
    const ca = await ensureLocalCa(dir);
    tls = await issueCertificate({ ca, dir, name: 'services', hosts: ['127.0.0.1', 'localhost'] });
  }
  const scheme = tls ? 'https' : 'http';
  const auth = await startService({
    name: 'auth',
    url: `${scheme}://127.0.0.1:${ports.auth}`,
    readyPath: '/readyz',
    logFile: join(logs, 'auth.log'),
    env: {
      JUNCTION_AUTH_PORT: String(ports.auth),
      JUNCTION_AUTH_STATE_DIR: join(stack.stateDir, 'auth'),
      ...(tls
        ? {
            JUNCTION_AUTH_ISSUER: `https://127.0.0.1:${ports.auth}`,
            JUNCTION_AUTH_TLS_CERT_FILE: tls.certFile,
            JUNCTION_AUTH_TLS_KEY_FILE: tls.keyFile,
          }
        : {}),
    },
    ...(tls ? { caFile: tls.caFile } : {}),
  });
  let business: ServiceProcess[] = [];
  try {
    business = await startBusiness(stack, options, logs);
    const gateway = await startService({
      name: 'gateway',
      url: `${scheme}://127.0.0.1:${ports.gateway}`,
      readyPath: '/readyz',
      logFile: join(logs, 'gateway.log'),
      env: {
        JUNCTION_GATEWAY_PORT: String(ports.gateway),
        JUNCTION_GATEWAY_ROUTES: await routesFor(ports, stack.stateDir),
        // Locally no load balancer drains from it: Ctrl-C stops it at once.
        JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
        JUNCTION_AUTH_ISSUER: auth.url,
        JUNCTION_KAFKA_BROKERS: stack.brokers.join(','),
        ...(stack.security ? stack.security.env('gateway') : {}),
        ...(stack.schemaRegistryUrl ? { JUNCTION_SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl } : {}),
        ...(stack.redisUrl ? { JUNCTION_REDIS_URL: stack.redisUrl } : {}),
        ...(tls ? { JUNCTION_GATEWAY_TLS_CERT_FILE: tls.certFile, JUNCTION_GATEWAY_TLS_KEY_FILE: tls.keyFile } : {}),
        ...(await localPiiEnv(stack.stateDir)),
        ...options.gatewayEnv,
      },
      ...(tls ? { caFile: tls.caFile } : {}),
    });
    const services = [auth, gateway, ...business];
    return { services, auth, gateway, ...(tls ? { caFile: tls.caFile } : {}), stop: () => stopAll(services) };
  } catch (error) {
    await stopAll([auth, ...business]);
    throw error;
  }
}
