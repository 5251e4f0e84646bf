import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuthServer, describeKeys, keyFilePath, parseAuthConfig, readKeyFile, startAuthServer } from '@junction/auth';
import { type RunningGateway, startGateway } from '@junction/gateway';
import { createLogger } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { importJWK, type JWTPayload, SignJWT } from 'jose';
import { type PrivateContracts, privateContracts } from '../../packages/events/src/testing/contracts.ts';
import { clientToken } from './auth.fixture.ts';

/** The clients of the test's authorization server, for the private orders topic. */
function authConfig(ordersTopic: string) {
  return {
    audience: 'urn:junction:gateway',
    tokenTtl: '15m',
    // A rotated key signs after this, longer than the gateway's JWKS cooldown here (500 ms).
    keyActivationDelay: '1s',
    algorithm: 'ES256' as const,
    clients: [
      { id: 'demo', scopes: [`events:${ordersTopic}:write`], secret: { generated: true as const } },
      { id: 'ops', scopes: [`events:${ordersTopic}:read`], secret: { generated: true as const } },
      { id: 'flood', scopes: [`events:${ordersTopic}:write`], secret: { generated: true as const } },
      { id: 'reader', scopes: ['shop:read'], secret: { generated: true as const } },
    ],
  };
}

/** A real authorization server and gateway, publishing to the test's private copy of the topics. */
export interface GatewayWorld {
  auth: AuthServer;
  gateway: RunningGateway;
  contracts: PrivateContracts;
  /** The private topic of order events. */
  ordersTopic: string;
  /** An access token from the auth server for `client` (all its scopes, unless `scope` names some). */
  token(client: string, scope?: string): Promise<string>;
  /** A token signed with the auth server's own signing key, with the claims given over valid ones. */
  forge(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** A second gateway, on the same auth and Kafka, with `env` over the first one's. */
  another(env: Record<string, string>): Promise<RunningGateway>;
  close(): Promise<void>;
}

/** Starts the world: private topics and subjects, the auth server, the gateway. */
export async function gatewayWorld(): Promise<GatewayWorld> {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  const stateDir = await mkdtemp(join(tmpdir(), 'junction-gateway-test-'));
  const contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 3 });
  const { catalog } = contracts;
  const ordersTopic = catalog.topics.find((topic) => topic.name.startsWith('orders.order.'))?.name as string;
  const config = authConfig(ordersTopic);
  const auth = await startAuthServer({ config: parseAuthConfig(config, '(test configuration)'), stateDir });
  const logger = createLogger({ service: 'gateway', level: 'error' });
  const baseEnv: Record<string, string> = {
    JUNCTION_GATEWAY_PORT: '0',
    JUNCTION_AUTH_ISSUER: auth.issuer,
    // No JUNCTION_AUTH_JWKS_URL: the gateway discovers it from the issuer, as with any OIDC issuer.
    JUNCTION_AUTH_JWKS_COOLDOWN_MS: '500',
    JUNCTION_SCHEMA_REGISTRY_URL: schemaRegistryUrl,
    JUNCTION_KAFKA_BROKERS: brokers.join(','),
    JUNCTION_GATEWAY_RATE_LIMIT_BURST: '1000',
    JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: '1000',
    JUNCTION_GATEWAY_MAX_BODY_BYTES: '16384',
    JUNCTION_GATEWAY_DRAIN_DELAY_MS: '0',
    ...(process.env.JUNCTION_PII_KEYS ? { JUNCTION_PII_KEYS: process.env.JUNCTION_PII_KEYS } : {}),
  };
  const started: RunningGateway[] = [];
  const another = async (env: Record<string, string>) => {
    const gateway = await startGateway({ env: { ...baseEnv, ...env }, logger, catalog });
    started.push(gateway);
    return gateway;
  };
  const gateway = await another({});

  const token = (client: string, scope?: string) =>
    clientToken({ auth, stateDir, client, scope: scope ?? config.clients.find((c) => c.id === client)?.scopes.join(' ') ?? '' });

  const forge = async (claims: JWTPayload, header: Record<string, unknown> = {}) => {
    const file = await readKeyFile(keyFilePath(stateDir));
    if (!file) throw new Error('the auth server has no key file');
    const key = describeKeys(file).find((k) => k.state === 'signing');
    if (!key) throw new Error('the auth server has no signing key');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: auth.issuer,
      aud: config.audience,
      client_id: 'demo',
      scope: `events:${ordersTopic}:write`,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
      .sign(await importJWK(key.privateJwk, key.alg));
  };

  return {
    auth,
    gateway,
    contracts,
    ordersTopic,
    token,
    forge,
    another,
    async close() {
      await Promise.allSettled(started.map((g) => g.shutdown()));
      await auth.close();
      await contracts.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
