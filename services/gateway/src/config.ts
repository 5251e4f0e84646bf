import { fileURLToPath } from 'node:url';
import { JunctionError } from '@junction/observability';
import { z } from 'zod';

/** The gateway's settings, read once from the environment at start. */
export type GatewayConfig = ReturnType<typeof readGatewayConfig>;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const fileOf = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

const environment = z
  .object({
    JUNCTION_GATEWAY_PORT: int(0, 65_535).default(8080),
    JUNCTION_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
    JUNCTION_GATEWAY_PUBLIC_URL: z.url().optional(),
    JUNCTION_GATEWAY_TLS_CERT_FILE: z.string().min(1).optional(),
    JUNCTION_GATEWAY_TLS_KEY_FILE: z.string().min(1).optional(),
    JUNCTION_GATEWAY_ROUTES: z.string().min(1).default(fileOf('../routes.yaml')),
    JUNCTION_GATEWAY_MAX_BODY_BYTES: int(1024, 16 * 1024 * 1024).default(1024 * 1024),
    JUNCTION_GATEWAY_RATE_LIMIT_BURST: int(1).default(200),
    JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
    JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST: int(1).default(1000),
    JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(500),
    JUNCTION_GATEWAY_MAX_IN_FLIGHT_BYTES: int(64 * 1024).default(16 * 1024 * 1024),
    JUNCTION_GATEWAY_BACKPRESSURE_TIMEOUT_MS: int(0, 30_000).default(1000),
    JUNCTION_GATEWAY_SHUTDOWN_TIMEOUT_MS: int(0, 120_000).default(10_000),
    JUNCTION_GATEWAY_DRAIN_DELAY_MS: int(0, 120_000).default(5000),
    JUNCTION_AUTH_ISSUER: z.url().default('http://127.0.0.1:8090'),
    JUNCTION_AUTH_AUDIENCE: z.string().min(1).default('urn:junction:gateway'),
    JUNCTION_AUTH_JWKS_URL: z.url().optional(),
    JUNCTION_AUTH_ALGORITHMS: z.string().default('ES256,RS256'),
    // Below the issuer's key activation delay (60 s), so a rotated key is always fetched before it signs.
    JUNCTION_AUTH_JWKS_COOLDOWN_MS: int(0, 600_000).default(30_000),
    JUNCTION_SCHEMA_REGISTRY_URL: z.url({ message: 'the schema registry URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7' }),
    JUNCTION_SCHEMAS_DIR: z.string().min(1).default(fileOf('../../../schemas')),
    JUNCTION_REDIS_URL: z.url().optional(),
  })
  .refine((env) => Boolean(env.JUNCTION_GATEWAY_TLS_CERT_FILE) === Boolean(env.JUNCTION_GATEWAY_TLS_KEY_FILE), {
    message: 'set both JUNCTION_GATEWAY_TLS_CERT_FILE and JUNCTION_GATEWAY_TLS_KEY_FILE, or neither',
    path: ['JUNCTION_GATEWAY_TLS_CERT_FILE'],
  });

/**
 * Reads the gateway's environment, reporting every problem at once. Kafka's connection (brokers,
 * SASL, CA) and PII keys are read by their own packages' readers.
 */
export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new JunctionError('config.invalid', `the gateway's environment is not valid: ${problems.join('; ')}`, { context: { problems } });
  }
  const e = parsed.data;
  const tls =
    e.JUNCTION_GATEWAY_TLS_CERT_FILE && e.JUNCTION_GATEWAY_TLS_KEY_FILE
      ? { certFile: e.JUNCTION_GATEWAY_TLS_CERT_FILE, keyFile: e.JUNCTION_GATEWAY_TLS_KEY_FILE }
      : undefined;
  return {
    port: e.JUNCTION_GATEWAY_PORT,
    host: e.JUNCTION_GATEWAY_HOST,
    publicUrl: e.JUNCTION_GATEWAY_PUBLIC_URL,
    tls,
    routesFile: e.JUNCTION_GATEWAY_ROUTES,
    maxBodyBytes: e.JUNCTION_GATEWAY_MAX_BODY_BYTES,
    rateLimit: { capacity: e.JUNCTION_GATEWAY_RATE_LIMIT_BURST, refillPerSecond: e.JUNCTION_GATEWAY_RATE_LIMIT_PER_SECOND },
    ipRateLimit: { capacity: e.JUNCTION_GATEWAY_IP_RATE_LIMIT_BURST, refillPerSecond: e.JUNCTION_GATEWAY_IP_RATE_LIMIT_PER_SECOND },
    shutdownTimeoutMs: e.JUNCTION_GATEWAY_SHUTDOWN_TIMEOUT_MS,
    drainDelayMs: e.JUNCTION_GATEWAY_DRAIN_DELAY_MS,
    publisher: {
      maxInFlightBytes: e.JUNCTION_GATEWAY_MAX_IN_FLIGHT_BYTES,
      // A batch cannot be larger than what may be in flight.
      maxBatchBytes: Math.min(896 * 1024, e.JUNCTION_GATEWAY_MAX_IN_FLIGHT_BYTES),
      backpressureTimeoutMs: e.JUNCTION_GATEWAY_BACKPRESSURE_TIMEOUT_MS,
    },
    auth: {
      issuer: e.JUNCTION_AUTH_ISSUER,
      audience: e.JUNCTION_AUTH_AUDIENCE,
      ...(e.JUNCTION_AUTH_JWKS_URL ? { jwksUrl: e.JUNCTION_AUTH_JWKS_URL } : {}),
      jwksCooldownMs: e.JUNCTION_AUTH_JWKS_COOLDOWN_MS,
      algorithms: e.JUNCTION_AUTH_ALGORITHMS.split(',')
        .map((alg) => alg.trim())
        .filter(Boolean),
    },
    registryUrl: e.JUNCTION_SCHEMA_REGISTRY_URL,
    schemasDir: e.JUNCTION_SCHEMAS_DIR,
    redisUrl: e.JUNCTION_REDIS_URL,
  };
}
