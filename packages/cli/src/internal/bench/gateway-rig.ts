import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Catalog,
  createAvroCodec,
  createTopicsReady,
  eventContract,
  eventVersion,
  loadCatalog,
  type PiiKeyring,
} from '@junction/events';
import { stackStatus } from '@junction/stack';
import { parseDocument, stringify } from 'yaml';
import { cliKafka, connectAdmin } from '../kafka.ts';
import { repositoryRoot } from '../paths.ts';
import { cliPiiKeyring, localPiiEnv } from '../pii.ts';
import { type ServiceProcess, startService } from '../services.ts';

/** The event type the bench publishes. */
export const BENCH_TYPE = 'com.junction.orders.OrderPlaced';

/** What the bench runs against: the stack's endpoints, its own topic, auth server and gateway, and a token. */
export interface GatewayRig {
  brokers: string[];
  registryUrl: string;
  redisUrl: string | undefined;
  /** The bench's copy of the contracts, where `orders.order` is renamed to {@link GatewayRig.topic}. */
  catalog: Catalog;
  topic: string;
  /** The stack's PII keys, which the gateway holds too. */
  pii: PiiKeyring;
  auth: ServiceProcess;
  gateway: ServiceProcess;
  /** A bearer token holding `events:<topic>:write`. */
  token: string;
  /** Stops the processes, deletes the topic and subject, removes the temporary files; safe to call twice. */
  close(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 just now (the OS's pick), so the bench runs beside `./junction up`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The running stack of `stateDir`, or one line saying to start it. */
async function runningStack(stateDir: string): Promise<{ brokers: string[]; registryUrl: string; redisUrl: string | undefined }> {
  const status = await stackStatus({ stateDir });
  const down = status.components.filter((c) => (c.kind === 'kafka' || c.kind === 'registry') && c.healthy !== true);
  if (!status.exists || !status.schemaRegistryUrl || down.length > 0) {
    const why = !status.exists
      ? `no stack in ${stateDir}`
      : !status.schemaRegistryUrl
        ? `the stack in ${stateDir} has no schema registry`
        : `${down.map((c) => c.name).join(', ')} of the stack in ${stateDir} ${down.length === 1 ? 'does' : 'do'} not answer`;
    throw new Error(`${why} → run ./junction stack up (or ./junction up) first, or pass --state-dir`);
  }
  if (status.secure) {
    throw new Error(
      `the stack in ${stateDir} is secure (SASL_SSL and ACLs); the gateway bench runs against a plain one → ./junction stack up without --secure`,
    );
  }
  return { brokers: status.brokers, registryUrl: status.schemaRegistryUrl, redisUrl: status.redisUrl };
}

/**
 * A copy of schemas/ whose `orders.order` is renamed to `topic`, for the gateway's
 * JUNCTION_SCHEMAS_DIR. The real `orders.order` has subscribers (inventory, billing,
 * notifications): tens of thousands of bench orders there would be acted on by any service
 * running beside the stack and stay in the topic for its retention. A private topic in the same
 * domain keeps the real contracts (schema, key field, PII marks, the gateway as writer) and is
 * deleted afterwards.
 */
async function benchSchemas(dir: string, topic: string): Promise<string> {
  const target = join(dir, 'schemas');
  await cp(join(repositoryRoot(), 'schemas'), target, { recursive: true });
  const file = join(target, 'topics.yaml');
  const document = parseDocument(await readFile(file, 'utf8')).toJS() as { topics: Record<string, unknown> };
  const { 'orders.order': orders, ...others } = document.topics;
  if (!orders) throw new Error(`schemas/topics.yaml has no orders.order topic, which the gateway bench publishes ${BENCH_TYPE} to`);
  await writeFile(file, stringify({ topics: { ...others, [topic]: orders } }));
  return target;
}

/** An access token for `clientId` by the client credentials grant. */
async function fetchToken(authUrl: string, clientId: string, secret: string, scope: string): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const response = await fetch(`${authUrl}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !answer.access_token) {
    throw new Error(`the bench's auth server refused a token (${response.status} ${answer.error ?? ''} ${answer.error_description ?? ''})`);
  }
  return answer.access_token;
}

/** Options of {@link startGatewayRig}. */
export interface GatewayRigOptions {
  /** The stack's state directory (`./junction stack up`'s). */
  stateDir: string;
  onProgress: (message: string) => void;
  /** Where the gateway writes its V8 CPU profile when it stops (`--cpu-prof-dir`); none by default. */
  profileDir?: string;
}

/**
 * Sets up what the bench needs beside the running stack: a private topic of order events with
 * its subject registered, an auth server with a bench client, a gateway with rate limits out of
 * the way, each on a free port; and a token. Whatever was made is undone when a step fails.
 */
export async function startGatewayRig(options: GatewayRigOptions): Promise<GatewayRig> {
  const { brokers, registryUrl, redisUrl } = await runningStack(options.stateDir);
  const undo: Array<() => Promise<unknown>> = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const step of undo.reverse()) await step().catch(() => {});
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), 'junction-bench-gateway-'));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    const topic = `orders.gateway-bench-${randomBytes(4).toString('hex')}`;
    const catalog = await loadCatalog(await benchSchemas(dir, topic));
    const contract = eventContract(catalog, BENCH_TYPE);

    options.onProgress(`creating topic ${topic} and registering ${contract.subject}`);
    const admin = await connectAdmin(cliKafka(brokers), brokers);
    undo.push(() => admin.disconnect());
    const partitions = catalog.topics.find((t) => t.name === topic)?.partitions ?? 6;
    await createTopicsReady(admin, [{ topic, numPartitions: partitions }]);
    undo.push(() => admin.deleteTopics({ topics: [topic], timeout: 10_000 }));
    await createAvroCodec({ registryUrl }).register(contract.subject, eventVersion(contract).schema);
    undo.push(async () => {
      // Soft delete first: the registry deletes a subject permanently only once it is soft-deleted.
      for (const query of ['', '?permanent=true']) {
        await fetch(`${registryUrl}/subjects/${encodeURIComponent(contract.subject)}${query}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(5000),
        });
      }
    });

    const secret = randomBytes(24).toString('base64url');
    const scope = `events:${topic}:write`;
    const authConfig = join(dir, 'clients.yaml');
    await writeFile(
      authConfig,
      stringify({
        audience: 'urn:junction:gateway',
        tokenTtl: '1h',
        algorithm: 'ES256',
        clients: [{ id: 'bench', description: 'The gateway bench.', scopes: [scope], secret: { env: 'JUNCTION_BENCH_CLIENT_SECRET' } }],
      }),
    );
    const [authPort, gatewayPort] = [await freePort(), await freePort()];
    options.onProgress(`starting an auth server on 127.0.0.1:${authPort} and a gateway on 127.0.0.1:${gatewayPort}`);
    const auth = await startService({
      name: 'auth',
      url: `http://127.0.0.1:${authPort}`,
      readyPath: '/readyz',
      logFile: join(dir, 'auth.log'),
      env: {
        JUNCTION_AUTH_PORT: String(authPort),
        JUNCTION_AUTH_HOST: '127.0.0.1',
        JUNCTION_AUTH_STATE_DIR: join(dir, 'auth'),
        JUNCTION_AUTH_CONFIG: authConfig,
        JUNCTION_BENCH_CLIENT_SECRET: secret,
      },
    });
    undo.push(() => auth.stop());
    const gateway = await startService({
      name: 'gateway',
      url: `http://127.0.0.1:${gatewayPort}`,
      readyPath: '/readyz',
      logFile: join(dir, 'gateway.log'),
      env: {
        JUNCTION_GATEWAY_PORT: String(gatewayPort),
        JUNCTION_GATEWAY_HOST: '127.0.0.1',
        JUNCTION_AUTH_ISSUER: auth.url,
        JUNCTION_KAFKA_BROKERS: brokers.join(','),
        JUNCTION_SCHEMA_REGISTRY_URL: registryUrl,
        JUNCTION_SCHEMAS_DIR: join(dir, 'schemas'),
        // As under ./junction up: rate limits and idempotency keys in the stack's Redis.
        ...(redisUrl ? { JUNCTION_REDIS_URL: redisUrl } : {}),
        // The limit is still checked on every request (its cost is measured) but never refuses one.
        JUNCTION_GATEWAY_RATE_LIMIT_BURST: '1000000',
        JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '1000000',
        JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST: '1000000',
        JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND: '1000000',
        // No load balancer to drain from: stop at once.
        JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
        ...(await localPiiEnv(options.stateDir)),
        // The gateway's own process only: the profile is written when it exits after SIGTERM.
        ...(options.profileDir
          ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${options.profileDir}`.trim() }
          : {}),
      },
    });
    undo.push(() => gateway.stop());
    const token = await fetchToken(auth.url, 'bench', secret, scope);
    return {
      brokers,
      registryUrl,
      redisUrl,
      catalog,
      topic,
      pii: await cliPiiKeyring(options.stateDir),
      auth,
      gateway,
      token,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
