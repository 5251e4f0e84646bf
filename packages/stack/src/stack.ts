import { mkdir } from 'node:fs/promises';
import { StackError, type StackErrorCode } from './errors.ts';
import { apicurioHome, downloadedJava, kafkaLibs } from './internal/artifacts.ts';
import { describeRuntimes, findJava, type JavaRuntime, listJavaRuntimes } from './internal/java.ts';
import { brokerAddress, prepareKafkaNode, probeKafka, startKafkaNode } from './internal/kafka.ts';
import { Launches, waitReady } from './internal/launches.ts';
import { checkLayout, planPostgres, planPrometheus, planRecord, planRedis } from './internal/layout.ts';
import { assertPortsFree } from './internal/ports.ts';
import {
  dataDir,
  dataMajor,
  ensureDatabase,
  postgresUrl,
  preparePostgres,
  probePostgres,
  serverUser,
  startPostgres,
} from './internal/postgres.ts';
import { describeInstalls, findPostgres, listPostgresInstalls, type PostgresBinaries } from './internal/postgres-binaries.ts';
import { signal, stopProcesses } from './internal/processes.ts';
import {
  configurePrometheus,
  findPrometheus,
  launchPrometheus,
  probePrometheus,
  prometheusUrl,
  reloadPrometheus,
  writeConfig,
} from './internal/prometheus.ts';
import { findRedis, probeRedis, redisUrl, startRedis } from './internal/redis.ts';
import { ccompatUrl, registryUrl, setGlobalCompatibility, startRegistry } from './internal/registry.ts';
import {
  addScramUsers,
  adminAuth,
  ensureBrokerTls,
  ensurePasswords,
  grantRegistry,
  writeRegistryKafkaConfig,
} from './internal/security.ts';
import {
  type ComponentRecord,
  components,
  isRunning,
  ownedProcess,
  type PostgresRecord,
  type PrometheusRecord,
  type RedisRecord,
  readRecord,
  type StackRecord,
  withStackLock,
  writeRecord,
} from './internal/state.ts';
import { installCommand, packageProviding } from './internal/system-packages.ts';
import { runTool, type ToolResult } from './internal/tools.ts';
import { type ResolvedOptions, resolveOptions, type ScrapeTarget, type StackOptions } from './options.ts';
import { setPrometheusTargets } from './prometheus.ts';
import { type StackSecurity, stackSecurity } from './security.ts';
import { stopStack } from './stop.ts';
import { APICURIO_MIN_JAVA, APICURIO_VERSION, KAFKA_MIN_JAVA, KAFKA_VERSION, POSTGRES_MIN_VERSION } from './versions.ts';

/** A component whose server the machine lacks, left out of a start with `optionalServers`. */
export interface MissingServer {
  name: 'postgres' | 'redis' | 'prometheus';
  /** The system package that provides it (system-packages.txt). */
  package: string;
  /** Why it could not start, as the error says it. */
  reason: string;
}

/** A Kafka node of a running stack. */
export interface StackNode {
  name: string;
  nodeId: number;
  /** `host:port` for clients. */
  address: string;
  pid: number | undefined;
}

/** A running local stack, as {@link startStack} returns it. */
export interface Stack {
  stateDir: string;
  /** Bootstrap addresses for Kafka clients. */
  brokers: string[];
  nodes: StackNode[];
  /** Apicurio's own base URL; undefined when the stack runs without a registry. */
  registryUrl: string | undefined;
  /** The Confluent-compatible schema registry API (`…/apis/ccompat/v7`). */
  schemaRegistryUrl: string | undefined;
  /** `postgres://junction@127.0.0.1:<port>/junction`; undefined when the stack runs without PostgreSQL. */
  postgresUrl: string | undefined;
  /** `redis://127.0.0.1:<port>`; undefined when the stack runs without Redis. */
  redisUrl: string | undefined;
  /** `http://127.0.0.1:<port>`, its UI and HTTP API; undefined when the stack runs without Prometheus. */
  prometheusUrl: string | undefined;
  /** TLS and SASL of a secure stack (CA file, users, credentials); undefined for a plaintext one. */
  security: StackSecurity | undefined;
  /**
   * Servers this machine lacks, left out because `optionalServers` was set: each with the
   * package that provides it and the error a required start would have thrown.
   */
  missing: MissingServer[];
  /** True when everything already ran and this call started nothing. */
  alreadyRunning: boolean;
  /** Names of the components this call started. */
  started: string[];
  /** Stops every process of the stack. */
  stop(): Promise<void>;
  /** Stops only the components this call started, leaving what ran before. */
  stopStarted(): Promise<void>;
  /** Sends a signal (default SIGKILL) to one component, for failure tests; false when it was not running. */
  kill(component: string, sig?: NodeJS.Signals): boolean;
  /** Replaces Prometheus's scrape jobs and reloads it, as {@link setPrometheusTargets} does. */
  setPrometheusTargets(targets: ScrapeTarget[]): Promise<void>;
}

const PROBE_TIMEOUT_MS = 3000;

function requireJava(options: ResolvedOptions, min: number, what: string): JavaRuntime {
  const search = { env: options.env, roots: options.javaRoots };
  const java = findJava(search, min);
  if (java) return java;
  throw new StackError('java-missing', `${what} needs Java ${min} or newer; found ${describeRuntimes(listJavaRuntimes(search))}`, {
    hint: `install a JDK ${min}+ (e.g. ${installCommand([packageProviding(`java>=${KAFKA_MIN_JAVA}`).name])}) or point JAVA_HOME at one`,
  });
}

async function registryJava(options: ResolvedOptions): Promise<JavaRuntime> {
  const preferred = options.env.JUNCTION_REGISTRY_JAVA_HOME;
  const search = { env: preferred ? { ...options.env, JUNCTION_JAVA_HOME: preferred } : options.env, roots: options.javaRoots };
  const java = findJava(search, APICURIO_MIN_JAVA);
  if (java) return java;
  options.progress(
    `Apicurio Registry ${APICURIO_VERSION} needs Java ${APICURIO_MIN_JAVA}+, and this machine has ${describeRuntimes(listJavaRuntimes(search))}`,
  );
  return downloadedJava({ cacheDir: options.cacheDir, env: options.env, progress: options.progress });
}

/** The server for `record`: of the data directory's own major release once it has one. */
async function requirePostgres(options: ResolvedOptions, record: PostgresRecord): Promise<PostgresBinaries> {
  const search = { env: options.env, roots: options.postgresRoots };
  const made = await dataMajor(record);
  const found = findPostgres(search, { minMajor: POSTGRES_MIN_VERSION, dataMajor: made });
  if (found) return found;
  const installs = describeInstalls(listPostgresInstalls(search));
  if (made !== undefined) {
    throw new StackError('postgres-missing', `${dataDir(record)} was made by PostgreSQL ${made}; found ${installs}`, {
      hint: `install postgresql-${made} (${installCommand([`postgresql-${made}`])}), or delete its data with ./junction stack down --purge`,
    });
  }
  throw new StackError('postgres-missing', `the stack needs PostgreSQL ${POSTGRES_MIN_VERSION} or newer; found ${installs}`, {
    hint: `install Debian's server (${installCommand([packageProviding('initdb').name])}), or run without it (--no-postgres)`,
  });
}

/**
 * Makes the asked-for SCRAM users a running secure cluster lacks: users are made when storage is
 * formatted, and a service added to topics.yaml later needs one too.
 */
async function addMissingUsers(options: ResolvedOptions, record: StackRecord): Promise<void> {
  const security = record.security;
  const missing = security ? options.kafkaUsers.filter((user) => !security.users.includes(user)) : [];
  if (!security || missing.length === 0) return;
  options.progress(`adding Kafka users ${missing.join(', ')}…`);
  const java = requireJava(options, KAFKA_MIN_JAVA, `Apache Kafka ${KAFKA_VERSION}'s tools`);
  const libs = await kafkaLibs({ cacheDir: options.cacheDir, env: options.env, progress: options.progress });
  await addScramUsers({ stateDir: options.stateDir, java: java.bin, libs, brokers: record.kafka.map(brokerAddress), users: missing });
  security.users.push(...missing);
  await writeRecord(options.stateDir, record);
}

/** The components a call runs, beyond Kafka and the registry. */
interface Extras {
  postgres: PostgresRecord | null;
  redis: RedisRecord | null;
  prometheus: PrometheusRecord | null;
}

function handle(
  stateDir: string,
  record: StackRecord,
  { postgres, redis, prometheus }: Extras,
  started: string[],
  missing: MissingServer[] = [],
): Stack {
  return {
    stateDir,
    brokers: record.kafka.map(brokerAddress),
    nodes: record.kafka.map((node) => ({ name: node.name, nodeId: node.nodeId, address: brokerAddress(node), pid: node.pid })),
    registryUrl: record.registry ? registryUrl(record.registry) : undefined,
    schemaRegistryUrl: record.registry ? ccompatUrl(record.registry) : undefined,
    postgresUrl: postgres ? postgresUrl(postgres) : undefined,
    redisUrl: redis ? redisUrl(redis) : undefined,
    prometheusUrl: prometheus ? prometheusUrl(prometheus) : undefined,
    security: record.security ? stackSecurity(stateDir, record.kafka.map(brokerAddress), record.security.users) : undefined,
    missing,
    alreadyRunning: started.length === 0,
    started,
    stop: async () => {
      await stopStack({ stateDir });
    },
    stopStarted: async () => {
      if (started.length > 0) await stopStack({ stateDir, only: started });
    },
    kill: (name, sig = 'SIGKILL') => {
      const component = components(record).find((c) => c.name === name);
      const owned = component && ownedProcess(component);
      return owned ? signal(owned, sig) : false;
    },
    setPrometheusTargets: (targets) => setPrometheusTargets({ stateDir, targets }),
  };
}

/** The codes of a server this machine lacks, which `optionalServers` turns into a component left out. */
const MISSING_CODES: ReadonlySet<StackErrorCode> = new Set(['postgres-missing', 'redis-missing', 'prometheus-missing']);

/**
 * Finds the server of a component that is to start (not one already running, nor one not
 * asked for): what `find` returns, or, when it is missing and `optional`, undefined with the
 * component noted in `missing`.
 */
async function findServer<T>(args: {
  record: ComponentRecord | null;
  name: MissingServer['name'];
  command: string;
  find: () => Promise<T>;
  optional: boolean;
  missing: MissingServer[];
}): Promise<T | undefined> {
  if (!args.record || isRunning(args.record)) return undefined;
  try {
    return await args.find();
  } catch (error) {
    if (!args.optional || !(error instanceof StackError) || !MISSING_CODES.has(error.code)) throw error;
    args.missing.push({ name: args.name, package: packageProviding(args.command).name, reason: error.message });
    return undefined;
  }
}

/**
 * Starts the local stack, or reports the one already running in the same state directory:
 * Kafka nodes first, then the registry; PostgreSQL, Redis and Prometheus alongside. Returns once
 * Kafka answers a metadata request from every node, the registry answers with the compatibility
 * set, PostgreSQL accepts connections to its database, Redis answers PING and Prometheus says it
 * is ready. Components that died are started again with their data; a running Prometheus given
 * other jobs or rules reloads them; a failed start stops whatever this call started.
 */
/** How to run one of Apache Kafka's own tools: a Java and the classpath of the stack's Kafka jars. */
export interface KafkaTools {
  java: string;
  /** `<libs>/*`, for `-cp`. */
  classpath: string;
  /** Runs `mainClass` with `args` to its end, killed past `timeoutMs`, and collects what it printed. */
  run(mainClass: string, args: string[], timeoutMs: number): Promise<ToolResult>;
}

/**
 * The Java and jars that run Kafka's own tools (`org.apache.kafka.tools.EndToEndLatency`,
 * `ProducerPerformance`…), the same the stack's brokers run on: benchmarks compare against them.
 * Fetches the jars on first use, as the stack does.
 */
export async function kafkaTools(options: Pick<StackOptions, 'cacheDir' | 'env' | 'onProgress'> = {}): Promise<KafkaTools> {
  const resolved = resolveOptions(options);
  const java = requireJava(resolved, KAFKA_MIN_JAVA, `Apache Kafka ${KAFKA_VERSION}'s tools`);
  const libs = await kafkaLibs({ cacheDir: resolved.cacheDir, env: resolved.env, progress: resolved.progress });
  const classpath = `${libs}/*`;
  return {
    java: java.bin,
    classpath,
    run: (mainClass, args, timeoutMs) => runTool(java.bin, ['-cp', classpath, mainClass, ...args], { timeoutMs }),
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const resolved = resolveOptions(options);
  const { stateDir } = resolved;
  await mkdir(stateDir, { recursive: true });
  return withStackLock(stateDir, async () => {
    const existing = await readRecord(stateDir);
    if (existing) checkLayout(existing, resolved);
    const record = existing ?? (await planRecord(resolved));
    const registry = resolved.registry === false ? null : record.registry;
    const compatibility = resolved.registry ? resolved.registry.compatibility : undefined;
    if (registry && compatibility) registry.compatibility = compatibility;
    const wantPostgres = resolved.postgres ?? record.postgres !== null;
    if (wantPostgres && !record.postgres) record.postgres = await planPostgres(resolved);
    const postgres = wantPostgres ? (record.postgres ?? null) : null;
    const wantRedis = resolved.redis ?? record.redis !== null;
    if (wantRedis && !record.redis) record.redis = await planRedis(resolved);
    const redis = wantRedis ? (record.redis ?? null) : null;
    const wantPrometheus = resolved.prometheus === undefined ? Boolean(record.prometheus) : resolved.prometheus !== false;
    if (wantPrometheus && !record.prometheus) record.prometheus = await planPrometheus(resolved);
    const prometheus = wantPrometheus ? (record.prometheus ?? null) : null;
    const reconfigured = prometheus && resolved.prometheus ? configurePrometheus(prometheus, resolved.prometheus) : false;
    if (prometheus && reconfigured && isRunning(prometheus)) {
      await writeConfig(prometheus);
      await reloadPrometheus(prometheus);
      await writeRecord(stateDir, record);
    }
    const kafkaToStart = record.kafka.filter((node) => !isRunning(node));
    const registryToStart = registry && !isRunning(registry) ? registry : undefined;
    // Checked before anything starts: a missing server (or postgres user) fails in a moment,
    // or, with optionalServers, leaves its component out of this start.
    const missing: MissingServer[] = [];
    const server = <T>(record: ComponentRecord | null, name: MissingServer['name'], command: string, find: () => Promise<T>) =>
      findServer({ record, name, command, find, optional: resolved.optionalServers, missing });
    const postgresServer = postgres
      ? await server(postgres, 'postgres', 'initdb', async () => ({
          bin: await requirePostgres(resolved, postgres),
          user: await serverUser(resolved.env),
        }))
      : undefined;
    const redisBin = await server(redis, 'redis', 'redis-server', () => findRedis(resolved.env));
    const prometheusBin = await server(prometheus, 'prometheus', 'prometheus', () => findPrometheus(resolved.env));
    const present = <T extends ComponentRecord>(component: T | null) =>
      missing.some((m) => m.name === component?.name) ? null : component;
    const extras = { postgres: present(postgres), redis: present(redis), prometheus: present(prometheus) };
    const postgresToStart = postgresServer ? (postgres ?? undefined) : undefined;
    const redisToStart = redisBin ? (redis ?? undefined) : undefined;
    const prometheusToStart = prometheusBin ? (prometheus ?? undefined) : undefined;
    const postgresBin = postgresServer?.bin;
    const postgresUser = postgresServer?.user;
    if (kafkaToStart.length === 0 && !registryToStart && !postgresToStart && !redisToStart && !prometheusToStart) {
      if (registry && compatibility) {
        await setGlobalCompatibility(registry, compatibility);
        await writeRecord(stateDir, record);
      }
      await addMissingUsers(resolved, record);
      return handle(stateDir, record, extras, [], missing);
    }

    await assertPortsFree([
      ...kafkaToStart,
      ...(registryToStart ? [registryToStart] : []),
      ...(postgresToStart ? [postgresToStart] : []),
      ...(redisToStart ? [redisToStart] : []),
      ...(prometheusToStart ? [prometheusToStart] : []),
    ]);
    const artifacts = { cacheDir: resolved.cacheDir, env: resolved.env, progress: resolved.progress };
    const kafkaJava = kafkaToStart.length > 0 ? requireJava(resolved, KAFKA_MIN_JAVA, `Apache Kafka ${KAFKA_VERSION}`) : undefined;
    const security = record.security ?? undefined;
    if (security) {
      // Before anything starts: the brokers' and the registry's configuration hold these.
      await ensurePasswords(stateDir, security.users);
      await ensureBrokerTls(stateDir, resolved.env);
    }
    const auth = security ? adminAuth(stateDir) : undefined;
    const [libs, apicurio, registryRuntime] = await Promise.all([
      kafkaJava ? kafkaLibs(artifacts) : undefined,
      registryToStart ? apicurioHome(artifacts) : undefined,
      registryToStart ? registryJava(resolved) : undefined,
    ]);

    const launches = new Launches();
    const started: ComponentRecord[] = [];
    const deadline = Date.now() + resolved.readyTimeoutMs;
    try {
      if (postgresToStart && postgresBin) {
        // First, because it needs nothing of Kafka's and a directory its user cannot reach
        // fails in a moment; it is ready long before the brokers are.
        resolved.progress(`starting PostgreSQL ${postgresBin.version} (${postgresBin.bindir})…`);
        await preparePostgres({
          bin: postgresBin,
          record: postgresToStart,
          user: postgresUser,
          onRelocate: (home) =>
            resolved.progress(
              `PostgreSQL runs as the ${postgresUser?.name} user, which cannot reach ${stateDir}: its data lives in ${home} (removed by ./junction stack down --purge)`,
            ),
        });
        launches.add(postgresToStart, startPostgres(postgresBin, postgresToStart, postgresUser));
        started.push(postgresToStart);
        await writeRecord(stateDir, record);
      }
      if (redisToStart && redisBin) {
        resolved.progress(`starting Redis ${redisBin.version} (${redisBin.path})…`);
        launches.add(redisToStart, await startRedis(redisBin, redisToStart));
        started.push(redisToStart);
        await writeRecord(stateDir, record);
      }
      if (prometheusToStart && prometheusBin) {
        resolved.progress(`starting Prometheus ${prometheusBin.version} (${prometheusBin.path})…`);
        launches.add(prometheusToStart, await launchPrometheus(prometheusBin, prometheusToStart));
        started.push(prometheusToStart);
        await writeRecord(stateDir, record);
      }
      if (kafkaJava && libs) {
        resolved.progress(`starting Apache Kafka ${KAFKA_VERSION} (${kafkaToStart.map((n) => n.name).join(', ')})…`);
        await Promise.all(
          kafkaToStart.map((node) =>
            prepareKafkaNode({
              java: kafkaJava,
              libs,
              node,
              cluster: record.kafka,
              clusterId: record.clusterId,
              overrides: resolved.kafkaConfig,
              secure: security ? { stateDir, users: security.users } : undefined,
            }),
          ),
        );
        for (const node of kafkaToStart) {
          launches.add(node, startKafkaNode(kafkaJava, libs, node, resolved.kafkaHeap));
          started.push(node);
        }
        await writeRecord(stateDir, record);
      }
      const first = record.kafka[0];
      if (first) {
        await waitReady({
          what: first,
          watch: started,
          launches,
          deadline,
          probe: async () => {
            const probe = await probeKafka(record.kafka.map(brokerAddress), PROBE_TIMEOUT_MS, auth);
            const complete = probe.ok && probe.brokers === record.kafka.length;
            return complete ? probe : { ok: false, error: probe.error ?? `${probe.brokers} of ${record.kafka.length} brokers registered` };
          },
        });
      }
      await addMissingUsers(resolved, record);
      if (registryToStart && registryRuntime && apicurio) {
        resolved.progress(`starting Apicurio Registry ${APICURIO_VERSION} (${registryToStart.storage} storage)…`);
        await mkdir(registryToStart.dir, { recursive: true });
        if (auth && registryToStart.storage === 'kafkasql') {
          await writeRegistryKafkaConfig(stateDir, registryToStart.dir);
          await grantRegistry(record.kafka.map(brokerAddress), auth, 10_000);
        }
        launches.add(
          registryToStart,
          await startRegistry(registryRuntime, apicurio, registryToStart, record.kafka.map(brokerAddress).join(',')),
        );
        started.push(registryToStart);
        await writeRecord(stateDir, record);
        await waitReady({
          what: registryToStart,
          watch: started,
          launches,
          deadline,
          probe: async () => {
            const response = await fetch(`${ccompatUrl(registryToStart)}/config`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).catch(
              (error: Error) => error,
            );
            return response instanceof Error
              ? { ok: false, error: response.message }
              : { ok: response.ok, error: `HTTP ${response.status}` };
          },
        });
      }
      if (registry) await setGlobalCompatibility(registry, registry.compatibility);
      if (postgresToStart) {
        await waitReady({
          what: postgresToStart,
          watch: started,
          launches,
          deadline,
          probe: () => probePostgres(postgresToStart, PROBE_TIMEOUT_MS),
        });
        await ensureDatabase(postgresToStart);
      }
      if (redisToStart) {
        await waitReady({
          what: redisToStart,
          watch: started,
          launches,
          deadline,
          probe: () => probeRedis(redisToStart, PROBE_TIMEOUT_MS),
        });
      }
      if (prometheusToStart) {
        await waitReady({
          what: prometheusToStart,
          watch: started,
          launches,
          deadline,
          probe: () => probePrometheus(prometheusToStart, PROBE_TIMEOUT_MS),
        });
      }
      await writeRecord(stateDir, record);
      return handle(
        stateDir,
        record,
        extras,
        // In component order, whatever order they started in.
        components(record)
          .filter((c) => started.includes(c))
          .map((c) => c.name),
        missing,
      );
    } catch (error) {
      await stopProcesses(
        started.map(ownedProcess).filter((p) => p !== undefined),
        10_000,
      ).catch(() => {});
      for (const component of started) {
        component.pid = undefined;
        component.startedAt = undefined;
      }
      await writeRecord(stateDir, record);
      throw error;
    }
  });
}
