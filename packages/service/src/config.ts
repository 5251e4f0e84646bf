import { fileURLToPath } from 'node:url';
import { type KafkaConnection, kafkaConnectionFromEnv, PUBLISH_COMPRESSIONS, type PublishCompression } from '@junction/events';
import { JunctionError } from '@junction/observability';
import { z } from 'zod';

/** What every service reads from its environment, before its own settings. */
export interface ServiceConfig<Own> {
  /** `orders`: names its port variable (`JUNCTION_ORDERS_PORT`), its database schema, its consumer group. */
  name: string;
  host: string;
  port: number;
  kafka: KafkaConnection;
  registryUrl: string;
  schemasDir: string;
  /** How the service's publisher compresses record batches (`JUNCTION_PUBLISH_COMPRESSION`: none, gzip or zstd). */
  publishCompression: PublishCompression;
  /** PostgreSQL (`JUNCTION_POSTGRES_URL`), or a PGlite directory: the embedded default. */
  database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dir: string };
  /** The service's database schema: its tables, outbox and inbox live there, apart from other services'. */
  schema: string;
  shutdownTimeoutMs: number;
  drainDelayMs: number;
  /** The service's own settings, from the schema it gave. */
  own: Own;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** The repository's schemas/, three levels above this file in sources and in the build alike. */
const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas', import.meta.url));

/** `orders` → `JUNCTION_ORDERS`; `payment-provider` → `JUNCTION_PAYMENT_PROVIDER`. */
export function envPrefix(name: string): string {
  return `JUNCTION_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Names fit for a consumer group, a schema and an environment prefix: lower case, digits, dashes. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Reads a service's environment once: the platform's settings (port, Kafka, registry, database,
 * shutdown) and the service's own, given as a zod object of variables. Every problem of both is
 * reported together in one `config.invalid` error, each with the variable it is about.
 */
export function readServiceConfig<Own extends z.ZodRawShape>(options: {
  name: string;
  defaultPort: number;
  own?: z.ZodObject<Own>;
  env?: NodeJS.ProcessEnv;
  /** Where PGlite keeps the service's data when no PostgreSQL URL is given. */
  defaultDataDir: string;
}): ServiceConfig<z.infer<z.ZodObject<Own>>> {
  const { name } = options;
  if (!SERVICE_NAME.test(name)) {
    throw new JunctionError('config.invalid', `"${name}" is not a service name: lower-case letters, digits and dashes, a letter first`);
  }
  const env = options.env ?? process.env;
  const prefix = envPrefix(name);
  const platform = z.object({
    [`${prefix}_PORT`]: int(0, 65_535).default(options.defaultPort),
    [`${prefix}_HOST`]: z.string().min(1).default('127.0.0.1'),
    [`${prefix}_DATA_DIR`]: z.string().min(1).default(options.defaultDataDir),
    [`${prefix}_SHUTDOWN_TIMEOUT_MS`]: int(0, 120_000).default(10_000),
    [`${prefix}_DRAIN_DELAY_MS`]: int(0, 120_000).default(0),
    JUNCTION_SCHEMA_REGISTRY_URL: z.url({ message: 'the schema registry URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7' }),
    JUNCTION_SCHEMAS_DIR: z.string().min(1).default(SCHEMAS_DIR),
    JUNCTION_PUBLISH_COMPRESSION: z.enum(PUBLISH_COMPRESSIONS).default('none'),
    JUNCTION_POSTGRES_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
  });
  const problems: string[] = [];
  const describe = (issues: z.core.$ZodIssue[]) =>
    issues.map((issue) => `${issue.path.map(String).join('.') || '(environment)'}: ${issue.message}`);
  const base = platform.safeParse(env);
  if (!base.success) problems.push(...describe(base.error.issues));
  const own = (options.own ?? z.object({})).safeParse(env);
  if (!own.success) problems.push(...describe(own.error.issues));
  let kafka: KafkaConnection | undefined;
  try {
    kafka = kafkaConnectionFromEnv(env);
  } catch (error) {
    const context = error instanceof JunctionError ? (error.context as { problems?: string[] }) : {};
    problems.push(...(context.problems ?? [error instanceof Error ? error.message : String(error)]));
  }
  if (!base.success || !own.success || !kafka || problems.length > 0) {
    throw new JunctionError('config.invalid', `the ${name} service's environment is not valid: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  const e = base.data as Record<string, unknown>;
  const postgresUrl = e.JUNCTION_POSTGRES_URL as string | undefined;
  return {
    name,
    host: e[`${prefix}_HOST`] as string,
    port: e[`${prefix}_PORT`] as number,
    kafka,
    registryUrl: e.JUNCTION_SCHEMA_REGISTRY_URL as string,
    schemasDir: e.JUNCTION_SCHEMAS_DIR as string,
    publishCompression: e.JUNCTION_PUBLISH_COMPRESSION as PublishCompression,
    database: postgresUrl ? { kind: 'postgres', url: postgresUrl } : { kind: 'pglite', dir: e[`${prefix}_DATA_DIR`] as string },
    schema: name.replace(/-/g, '_'),
    shutdownTimeoutMs: e[`${prefix}_SHUTDOWN_TIMEOUT_MS`] as number,
    drainDelayMs: e[`${prefix}_DRAIN_DELAY_MS`] as number,
    own: own.data as z.infer<z.ZodObject<Own>>,
  };
}
