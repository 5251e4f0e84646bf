import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackError } from './errors.ts';
import { DEFAULT_JAVA_ROOTS } from './internal/java.ts';
import { DEFAULT_POSTGRES_ROOTS } from './internal/postgres-binaries.ts';

/** Schema compatibility levels the registry can enforce (Confluent names). */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

/** One of {@link COMPATIBILITY_LEVELS}. */
export type Compatibility = (typeof COMPATIBILITY_LEVELS)[number];

/** Where the registry keeps schemas: in a Kafka topic (survives restarts) or in memory (tests). */
export type RegistryStorage = 'kafkasql' | 'memory';

/** How to run the schema registry. */
export interface RegistryOptions {
  /** Default `kafkasql`. */
  storage?: RegistryStorage;
  /** Global compatibility, set on every start. Default: as before, `FULL_TRANSITIVE` for a new stack. */
  compatibility?: Compatibility;
}

/** One scrape job of Prometheus: its name (the `job` label) and the `host:port`s serving `/metrics`. */
export interface ScrapeTarget {
  job: string;
  targets: string[];
  /** Added to every series scraped from these targets; `namespace` is `local` unless given here. */
  labels?: Record<string, string>;
}

/** How to run Prometheus; fields left out keep what the stack recorded (none, `15s`, `15s` for a new one). */
export interface PrometheusOptions {
  /** Replaces the scrape jobs. */
  targets?: ScrapeTarget[];
  /** Rule files, absolute or from the current directory; a `*` in the last part (`alerts/*.yaml`) may match none. */
  ruleFiles?: string[];
  /** A Prometheus duration such as `15s`; tests use `1s`. */
  scrapeInterval?: string;
  evaluationInterval?: string;
}

/** Options of {@link startStack}; every field has a sensible default for a laptop. */
export interface StackOptions {
  /** Holds data, logs and pids. Default `$JUNCTION_STATE_DIR` or `./.junction`. */
  stateDir?: string;
  /** Holds downloaded jars and runtimes. Default `$JUNCTION_CACHE_DIR` or `~/.cache/junction`. */
  cacheDir?: string;
  /** Kafka nodes, each a combined broker and controller. Default 1. */
  brokers?: number;
  /**
   * `auto` picks free ports (for throwaway stacks). Otherwise the first broker listens on
   * `kafka` (default 9092) with its controller on the next port, the next broker two above,
   * and so on; the registry listens on `registry` (default 8081) with its management port next,
   * PostgreSQL on `postgres` (default 5432), Redis on `redis` (default 6379) and Prometheus on
   * `prometheus` (default 9090).
   */
  ports?: 'auto' | { kafka?: number; registry?: number; postgres?: number; redis?: number; prometheus?: number };
  /** `false` runs Kafka alone. */
  registry?: false | RegistryOptions;
  /**
   * PostgreSQL (the machine's own server binaries) for outboxes and inboxes. `false`: none this
   * time. Default: as the state directory was made, and on for a new stack or one made before
   * the stack ran PostgreSQL.
   */
  postgres?: boolean;
  /**
   * Redis (the machine's `redis-server`) for shared rate limits and the Redis dedupe store.
   * `false`: none this time. Default: as the state directory was made, and on for a new stack
   * or one made before the stack ran Redis.
   */
  redis?: boolean;
  /**
   * Prometheus (the machine's `prometheus`), with these scrape jobs and rules. `false`: none this
   * time. Default: as the state directory was made, and off for a new stack: tests start their
   * own with targets of their own, and `./junction up` asks for it.
   */
  prometheus?: boolean | PrometheusOptions;
  /**
   * Kafka with a SASL_SSL listener (SCRAM-SHA-512, a certificate from the stack's local CA),
   * the StandardAuthorizer and no access without an ACL; `admin` is the super user. Fixed when
   * the state directory is created. Default: as the state directory was made, plaintext for a new one.
   */
  secure?: boolean;
  /**
   * SCRAM users of a secure stack besides `admin` and `registry`, made when storage is
   * formatted (or, on a running stack that lacks one, with Kafka's ConfigCommand), each with a
   * random password in `<stateDir>/secrets/kafka/<user>.password`.
   */
  kafkaUsers?: string[];
  /**
   * Start PostgreSQL, Redis and Prometheus only where this machine has their servers: one it
   * lacks is left out this time and named in `Stack.missing` (with the package that provides
   * it), instead of failing the start. Default false: every component asked for must start,
   * as tests need. `./junction up` sets it, and says what the machine then goes without.
   */
  optionalServers?: boolean;
  /** Extra `server.properties` entries for every broker; they win over the stack's own. */
  kafkaConfig?: Record<string, string>;
  /** Maximum Java heap of each Kafka node, e.g. `512m`. */
  kafkaHeap?: string;
  /** How long a component may take to answer before start-up fails. */
  readyTimeoutMs?: number;
  /** Environment used to find Java and Maven. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directories holding installed JDKs. */
  javaRoots?: string[];
  /** Directories holding PostgreSQL servers as `<major>/bin`. Default `/usr/lib/postgresql`. */
  postgresRoots?: string[];
  /** Receives a line for each slow step (downloads, starts). */
  onProgress?: (message: string) => void;
}

const port = z.number().int().min(1).max(65_534);

// Prometheus's own rules for these, checked here so a mistake is reported before anything starts.
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name');
const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'a Prometheus duration such as 15s');

const scrapeTargetSchema = z
  .object({
    job: z.string().min(1),
    targets: z.array(z.string().regex(/^[^\s/]+:\d+$/, 'host:port')).min(1),
    labels: z
      .record(
        labelName.refine((name) => !name.startsWith('__'), 'not a reserved __ label'),
        z.string(),
      )
      .optional(),
  })
  .strict();

/** Validates {@link PrometheusOptions}, here and in `startPrometheus`. */
export const prometheusOptionsSchema = z
  .object({
    targets: z
      .array(scrapeTargetSchema)
      .refine((jobs) => new Set(jobs.map((j) => j.job)).size === jobs.length, 'each job name once')
      .optional(),
    ruleFiles: z.array(z.string().regex(/^[^*]*(\*[^/]*)?$/, 'a path with at most one * in its last part')).optional(),
    scrapeInterval: duration.optional(),
    evaluationInterval: duration.optional(),
  })
  .strict();

const optionsSchema = z.object({
  stateDir: z.string().min(1).optional(),
  cacheDir: z.string().min(1).optional(),
  brokers: z.number().int().min(1).max(5).optional(),
  ports: z
    .union([
      z.literal('auto'),
      z
        .object({
          kafka: port.optional(),
          registry: port.optional(),
          postgres: port.optional(),
          redis: port.optional(),
          prometheus: port.optional(),
        })
        .strict(),
    ])
    .optional(),
  registry: z
    .union([
      z.literal(false),
      z.object({ storage: z.enum(['kafkasql', 'memory']).optional(), compatibility: z.enum(COMPATIBILITY_LEVELS).optional() }).strict(),
    ])
    .optional(),
  postgres: z.boolean().optional(),
  redis: z.boolean().optional(),
  prometheus: z.union([z.boolean(), prometheusOptionsSchema]).optional(),
  secure: z.boolean().optional(),
  optionalServers: z.boolean().optional(),
  kafkaUsers: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case service name')).optional(),
  kafkaConfig: z.record(z.string().regex(/^[a-z0-9._-]+$/, 'a Kafka property name'), z.string()).optional(),
  kafkaHeap: z
    .string()
    .regex(/^\d+[kmg]$/i, 'a Java heap size such as 512m')
    .optional(),
  readyTimeoutMs: z.number().int().positive().optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  javaRoots: z.array(z.string()).optional(),
  postgresRoots: z.array(z.string()).optional(),
  onProgress: z.custom<(message: string) => void>((value) => typeof value === 'function', 'a function').optional(),
});

/** Options after defaults, as the stack uses them. */
export interface ResolvedOptions {
  stateDir: string;
  cacheDir: string;
  /** Undefined: keep what the state directory holds, or 1 for a new one. */
  brokers: number | undefined;
  ports:
    | 'auto'
    | {
        kafka: number | undefined;
        registry: number | undefined;
        postgres: number | undefined;
        redis: number | undefined;
        prometheus: number | undefined;
      };
  /** Undefined: keep what the state directory holds, or a kafkasql registry for a new one. */
  registry: false | { storage: RegistryStorage | undefined; compatibility: Compatibility | undefined } | undefined;
  /** Undefined: keep what the state directory holds, or PostgreSQL for a new one. */
  postgres: boolean | undefined;
  /** Undefined: keep what the state directory holds, or Redis for a new one. */
  redis: boolean | undefined;
  /** Undefined: keep what the state directory holds, or none for a new one. Rule files are absolute. */
  prometheus: false | PrometheusOptions | undefined;
  /** Undefined: keep what the state directory holds, or plaintext for a new one. */
  secure: boolean | undefined;
  kafkaUsers: string[];
  optionalServers: boolean;
  kafkaConfig: Record<string, string>;
  kafkaHeap: string;
  readyTimeoutMs: number;
  env: NodeJS.ProcessEnv;
  javaRoots: string[];
  postgresRoots: string[];
  progress: (message: string) => void;
}

/** The default state directory: `$JUNCTION_STATE_DIR`, else `.junction` in the current directory. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.JUNCTION_STATE_DIR ?? join(process.cwd(), '.junction'));
}

/** The default cache of downloads, shared by every checkout on the machine. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.JUNCTION_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'junction'));
}

/** Rule files relative to the current directory, made absolute: Prometheus would read them from its own. */
export function absoluteRules<T extends PrometheusOptions | undefined>(options: T): T {
  if (options?.ruleFiles === undefined) return options;
  return { ...options, ruleFiles: options.ruleFiles.map((file) => resolve(file)) };
}

/** One line per problem, each with its path. */
function describeIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union') {
      // `false | {…}` given an object: the branch of its type says what is wrong inside it,
      // where the union alone would say only "Invalid input".
      const telling = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0 && i.code.startsWith('invalid_')));
      if (telling.length === 1 && telling[0]) return describeIssues(telling[0], path);
    }
    // A record's bad key: the key's own schema says why ("Invalid key in record" would not).
    if (issue.code === 'invalid_key') return describeIssues(issue.issues, path);
    return [`${path.map(String).join('.') || 'options'}: ${issue.message}`];
  });
}

/** Checks `value` against `schema`, reporting every problem together in one error about `what`. */
export function checkOptions(schema: z.ZodType, value: unknown, what: string): void {
  const parsed = schema.safeParse(value);
  if (parsed.success) return;
  throw new StackError('invalid-options', `invalid ${what}: ${describeIssues(parsed.error.issues).join('; ')}`);
}

/** Validates options once, reporting every problem together, and fills in defaults. */
export function resolveOptions(options: StackOptions): ResolvedOptions {
  checkOptions(optionsSchema, options, 'stack options');
  const env = options.env ?? process.env;
  const registry = options.registry;
  return {
    stateDir: resolve(options.stateDir ?? defaultStateDir(env)),
    cacheDir: resolve(options.cacheDir ?? defaultCacheDir(env)),
    brokers: options.brokers,
    ports:
      options.ports === 'auto'
        ? 'auto'
        : {
            kafka: options.ports?.kafka,
            registry: options.ports?.registry,
            postgres: options.ports?.postgres,
            redis: options.ports?.redis,
            prometheus: options.ports?.prometheus,
          },
    registry:
      registry === false || registry === undefined ? registry : { storage: registry.storage, compatibility: registry.compatibility },
    postgres: options.postgres,
    redis: options.redis,
    prometheus: options.prometheus === true ? {} : options.prometheus === false ? false : absoluteRules(options.prometheus),
    secure: options.secure,
    kafkaUsers: options.kafkaUsers ?? [],
    optionalServers: options.optionalServers ?? false,
    kafkaConfig: options.kafkaConfig ?? {},
    kafkaHeap: options.kafkaHeap ?? '512m',
    readyTimeoutMs: options.readyTimeoutMs ?? 180_000,
    env,
    javaRoots: options.javaRoots ?? DEFAULT_JAVA_ROOTS,
    postgresRoots: options.postgresRoots ?? DEFAULT_POSTGRES_ROOTS,
    progress: options.onProgress ?? (() => {}),
  };
}
