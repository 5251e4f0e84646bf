import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import { APICURIO_VERSION, KAFKA_VERSION } from '../versions.ts';
import { newClusterId } from './kafka.ts';
import { freePorts } from './ports.ts';
import { configurePrometheus } from './prometheus.ts';
import { planUsers } from './security.ts';
import type { KafkaNodeRecord, PostgresRecord, PrometheusRecord, RedisRecord, RegistryRecord, StackRecord } from './state.ts';

/** Until started, a PostgreSQL record knows no version: the machine's server decides it. */
const POSTGRES_VERSION_UNKNOWN = 'unknown';

/**
 * Lays out PostgreSQL for a stack: for a new one, or for one made before the stack ran
 * PostgreSQL (it holds no data of Kafka's, so it can join later). Port 5432 unless told.
 */
export async function planPostgres(options: ResolvedOptions, port?: number): Promise<PostgresRecord> {
  const dir = join(options.stateDir, 'postgres');
  const chosen = port ?? (options.ports === 'auto' ? ((await freePorts(1))[0] ?? 0) : (options.ports.postgres ?? 5432));
  return {
    kind: 'postgres',
    name: 'postgres',
    port: chosen,
    dir,
    logFile: join(dir, 'postgres.log'),
    marker: `junction.component=${dir}`,
    version: POSTGRES_VERSION_UNKNOWN,
    // Server processes show it in their titles; random, so strays of one stack are told from another's.
    clusterName: `junction-${randomBytes(4).toString('hex')}`,
    user: 'junction',
    database: 'junction',
  };
}

/** Until started, a Redis record knows no version: the machine's server decides it. */
const REDIS_VERSION_UNKNOWN = 'unknown';

/**
 * Lays out Redis for a stack: for a new one, or for one made before the stack ran Redis.
 * Port 6379 unless told. The marker shows in its process title (see `startRedis`).
 */
export async function planRedis(options: ResolvedOptions, port?: number): Promise<RedisRecord> {
  const dir = join(options.stateDir, 'redis');
  const chosen = port ?? (options.ports === 'auto' ? ((await freePorts(1))[0] ?? 0) : (options.ports.redis ?? 6379));
  return {
    kind: 'redis',
    name: 'redis',
    port: chosen,
    dir,
    logFile: join(dir, 'redis.log'),
    marker: `junction.component=${dir}`,
    version: REDIS_VERSION_UNKNOWN,
  };
}

/**
 * Lays out Prometheus for a stack that asks for it, with the options' jobs and rules. Port 9090
 * unless told. The marker shows in its page title (see `launchPrometheus`).
 */
export async function planPrometheus(options: ResolvedOptions, port?: number): Promise<PrometheusRecord> {
  const dir = join(options.stateDir, 'prometheus');
  const chosen = port ?? (options.ports === 'auto' ? ((await freePorts(1))[0] ?? 0) : (options.ports.prometheus ?? 9090));
  const record: PrometheusRecord = {
    kind: 'prometheus',
    name: 'prometheus',
    port: chosen,
    dir,
    logFile: join(dir, 'prometheus.log'),
    marker: `junction.component=${dir}`,
    // Until started: the machine's server decides it.
    version: 'unknown',
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    targets: [],
    ruleFiles: [],
  };
  if (options.prometheus) configurePrometheus(record, options.prometheus);
  return record;
}

/** Lays out a new stack: ports, directories and markers of each component, and a cluster id. */
export async function planRecord(options: ResolvedOptions): Promise<StackRecord> {
  const count = options.brokers ?? 1;
  let kafkaPorts: number[];
  let registryPorts: [number, number];
  let postgresPort: number | undefined;
  let redisPort: number | undefined;
  let prometheusPort: number | undefined;
  if (options.ports === 'auto') {
    const free = await freePorts(2 * count + 5);
    kafkaPorts = free.slice(0, 2 * count);
    registryPorts = [free[2 * count] ?? 0, free[2 * count + 1] ?? 0];
    postgresPort = free[2 * count + 2];
    redisPort = free[2 * count + 3];
    prometheusPort = free[2 * count + 4];
  } else {
    const base = options.ports.kafka ?? 9092;
    kafkaPorts = Array.from({ length: 2 * count }, (_, i) => base + i);
    const registry = options.ports.registry ?? 8081;
    registryPorts = [registry, registry + 1];
  }
  const kafka: KafkaNodeRecord[] = Array.from({ length: count }, (_, i) => {
    const name = `kafka-${i + 1}`;
    const dir = join(options.stateDir, name);
    return {
      kind: 'kafka',
      name,
      nodeId: i + 1,
      port: kafkaPorts[2 * i] ?? 0,
      controllerPort: kafkaPorts[2 * i + 1] ?? 0,
      dir,
      logFile: join(dir, 'kafka.log'),
      marker: `-Djunction.component=${dir}`,
      version: KAFKA_VERSION,
    };
  });
  const registryDir = join(options.stateDir, 'registry');
  const registry: RegistryRecord | null =
    options.registry === false
      ? null
      : {
          kind: 'registry',
          name: 'registry',
          port: registryPorts[0],
          managementPort: registryPorts[1],
          storage: options.registry?.storage ?? 'kafkasql',
          compatibility: options.registry?.compatibility ?? 'FULL_TRANSITIVE',
          dir: registryDir,
          logFile: join(registryDir, 'registry.log'),
          marker: `-Djunction.component=${registryDir}`,
          version: APICURIO_VERSION,
        };
  const postgres = options.postgres === false ? null : await planPostgres(options, postgresPort);
  const redis = options.redis === false ? null : await planRedis(options, redisPort);
  const prometheus = options.prometheus ? await planPrometheus(options, prometheusPort) : null;
  const security = options.secure ? { users: planUsers(options.kafkaUsers) } : null;
  return {
    format: 1,
    clusterId: newClusterId(),
    createdAt: new Date().toISOString(),
    kafka,
    registry,
    postgres,
    redis,
    prometheus,
    security,
  };
}

/** The layout of a state directory is fixed when it is created; asking for another is an error. */
export function checkLayout(record: StackRecord, options: ResolvedOptions): void {
  const conflicts: string[] = [];
  if (options.brokers !== undefined && options.brokers !== record.kafka.length) {
    conflicts.push(`it holds ${record.kafka.length} broker(s), ${options.brokers} were asked for`);
  }
  if (options.ports !== 'auto' && options.ports.kafka !== undefined && options.ports.kafka !== record.kafka[0]?.port) {
    conflicts.push(`its Kafka listens on ${record.kafka[0]?.port}, ${options.ports.kafka} was asked for`);
  }
  if (options.ports !== 'auto' && options.ports.registry !== undefined && options.ports.registry !== record.registry?.port) {
    conflicts.push(`its registry listens on ${record.registry?.port ?? 'nothing'}, ${options.ports.registry} was asked for`);
  }
  if (
    options.ports !== 'auto' &&
    options.ports.postgres !== undefined &&
    record.postgres &&
    options.ports.postgres !== record.postgres.port
  ) {
    conflicts.push(`its PostgreSQL listens on ${record.postgres.port}, ${options.ports.postgres} was asked for`);
  }
  if (options.ports !== 'auto' && options.ports.redis !== undefined && record.redis && options.ports.redis !== record.redis.port) {
    conflicts.push(`its Redis listens on ${record.redis.port}, ${options.ports.redis} was asked for`);
  }
  const prometheusPort = options.ports === 'auto' ? undefined : options.ports.prometheus;
  if (prometheusPort !== undefined && record.prometheus && prometheusPort !== record.prometheus.port) {
    conflicts.push(`its Prometheus listens on ${record.prometheus.port}, ${prometheusPort} was asked for`);
  }
  if (options.registry && record.registry === null) conflicts.push('it was created without a registry');
  const secure = Boolean(record.security);
  if (options.secure !== undefined && options.secure !== secure) {
    conflicts.push(`its Kafka is ${secure ? 'secure (SASL_SSL)' : 'plaintext'}, ${options.secure ? 'secure' : 'plaintext'} was asked for`);
  }

  const storage = options.registry ? options.registry.storage : undefined;
  if (storage && record.registry && storage !== record.registry.storage) {
    conflicts.push(`its registry stores in ${record.registry.storage}, ${storage} was asked for`);
  }
  if (conflicts.length > 0) {
    throw new StackError(
      'state-conflict',
      `the stack in ${record.kafka[0]?.dir ? join(record.kafka[0].dir, '..') : 'its state directory'} differs: ${conflicts.join('; ')}`,
      {
        hint: 'run `./junction stack down --purge` to start afresh, or choose another --state-dir',
      },
    );
  }
}
