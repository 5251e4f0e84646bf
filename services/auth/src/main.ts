import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onShutdownSignal } from '@junction/http';
import { initObservability, JunctionError } from '@junction/observability';
import { z } from 'zod';
import { type AuthServer, startAuthServer } from './server.ts';

/** The package's default configuration: services/auth/clients.yaml (one level above src/ and dist/). */
const DEFAULT_CONFIG = fileURLToPath(new URL('../clients.yaml', import.meta.url));

const environment = z.object({
  JUNCTION_AUTH_PORT: z.coerce.number().int().min(0).max(65_535).default(8090),
  JUNCTION_AUTH_HOST: z.string().min(1).default('127.0.0.1'),
  JUNCTION_AUTH_CONFIG: z.string().min(1).default(DEFAULT_CONFIG),
  JUNCTION_AUTH_STATE_DIR: z.string().min(1).default('.junction/auth'),
  JUNCTION_AUTH_ISSUER: z.url().optional(),
  JUNCTION_AUTH_TLS_CERT_FILE: z.string().min(1).optional(),
  JUNCTION_AUTH_TLS_KEY_FILE: z.string().min(1).optional(),
  JUNCTION_AUTH_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
});

/** Reads the environment once, reporting every problem together. */
function readEnvironment(env: NodeJS.ProcessEnv) {
  const parsed = environment.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // Checked beside the schema, not in a refinement, which zod skips when any field failed.
  if (!env.JUNCTION_AUTH_TLS_CERT_FILE !== !env.JUNCTION_AUTH_TLS_KEY_FILE) {
    problems.push('JUNCTION_AUTH_TLS_CERT_FILE, JUNCTION_AUTH_TLS_KEY_FILE: set both (HTTPS) or neither (HTTP)');
  }
  if (parsed.success && problems.length === 0) return parsed.data;
  throw new JunctionError('config.invalid', `the auth server's environment is not valid: ${problems.join('; ')}`, {
    context: { problems },
  });
}

const observability = await initObservability({ service: 'auth' });
const { logger } = observability;

let server: AuthServer;
try {
  const env = readEnvironment(process.env);
  const tls =
    env.JUNCTION_AUTH_TLS_CERT_FILE && env.JUNCTION_AUTH_TLS_KEY_FILE
      ? { certFile: env.JUNCTION_AUTH_TLS_CERT_FILE, keyFile: env.JUNCTION_AUTH_TLS_KEY_FILE }
      : undefined;
  server = await startAuthServer({
    config: resolve(env.JUNCTION_AUTH_CONFIG),
    stateDir: resolve(env.JUNCTION_AUTH_STATE_DIR),
    port: env.JUNCTION_AUTH_PORT,
    host: env.JUNCTION_AUTH_HOST,
    ...(env.JUNCTION_AUTH_ISSUER ? { issuer: env.JUNCTION_AUTH_ISSUER } : {}),
    ...(tls ? { tls } : {}),
    logger,
    metrics: observability.metrics,
    shutdownTimeoutMs: env.JUNCTION_AUTH_SHUTDOWN_TIMEOUT_MS,
  });
} catch (error) {
  const failure = JunctionError.from(error, 'config.invalid');
  logger.error('auth server did not start', { code: failure.code, error: failure.message });
  process.stderr.write(`auth: ${failure.message}\n`);
  await observability.shutdown();
  process.exit(1);
}

// The one line that says where to find it.
logger.info('listening', { url: server.url, issuer: server.issuer, jwks: server.jwksUrl });

process.on('SIGHUP', () => {
  void server.reloadKeys();
});

// SIGTERM/SIGINT: drain and exit 0 (1 when the stop failed); a second signal exits at once.
onShutdownSignal(async () => {
  await server.close();
  await observability.shutdown();
}, logger);
