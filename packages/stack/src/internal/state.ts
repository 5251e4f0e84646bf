import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compatibility, RegistryStorage, ScrapeTarget } from '../options.ts';
import { withLock } from './lock.ts';
import { isOurs, type OwnedProcess } from './processes.ts';
import type { SecurityRecord } from './security.ts';

/** What every component record holds. */
interface ComponentBase {
  /** `kafka-1`, `kafka-2`, …, `registry`, `postgres`, `redis`, `prometheus`. */
  name: string;
  /** Its directory under the state directory: config, data and log. */
  dir: string;
  logFile: string;
  /** The argument that identifies its process, see {@link OwnedProcess}. */
  marker: string;
  /** The release it runs. */
  version: string;
  /** Set while it runs. */
  pid?: number | undefined;
  startedAt?: string | undefined;
}

/** One Kafka node: broker and KRaft controller in one process. */
export interface KafkaNodeRecord extends ComponentBase {
  kind: 'kafka';
  nodeId: number;
  port: number;
  controllerPort: number;
}

/** The schema registry. */
export interface RegistryRecord extends ComponentBase {
  kind: 'registry';
  port: number;
  managementPort: number;
  storage: RegistryStorage;
  compatibility: Compatibility;
}

/** PostgreSQL, for the outbox, the inbox and service state. */
export interface PostgresRecord extends ComponentBase {
  kind: 'postgres';
  port: number;
  /** Names its server processes (`postgres: <clusterName>: checkpointer`), so strays can be found. */
  clusterName: string;
  /** The superuser, made by initdb, and the database created after the first start. */
  user: string;
  database: string;
  /**
   * Set when the server user (root runs PostgreSQL as `postgres`) cannot reach the state
   * directory: the cluster's data and sockets live here instead, and go with `down --purge`.
   */
  dataHome?: string | undefined;
  /** The server's `bin` directory, recorded at start; status probes with its `pg_isready`. */
  bindir?: string | undefined;
}

/** Redis, for rate limits shared by replicas and the optional dedupe store. */
export interface RedisRecord extends ComponentBase {
  kind: 'redis';
  port: number;
}

/** Prometheus, scraping what the caller names and evaluating its rule files; its config is made from these fields. */
export interface PrometheusRecord extends ComponentBase {
  kind: 'prometheus';
  port: number;
  /** Prometheus durations, e.g. `15s`. */
  scrapeInterval: string;
  evaluationInterval: string;
  targets: ScrapeTarget[];
  /** Absolute paths; a `*` in the last part matches several files, and none at all is fine. */
  ruleFiles: string[];
}

/** Any component of the stack. */
export type ComponentRecord = KafkaNodeRecord | RegistryRecord | PostgresRecord | RedisRecord | PrometheusRecord;

/** What `stack.json` in a state directory records: the layout, fixed at creation, and the pids. */
export interface StackRecord {
  format: 1;
  clusterId: string;
  createdAt: string;
  kafka: KafkaNodeRecord[];
  registry: RegistryRecord | null;
  /** Null: made without PostgreSQL. Absent: recorded before the stack ran PostgreSQL. */
  postgres?: PostgresRecord | null;
  /** Null: made without Redis. Absent: recorded before the stack ran Redis. */
  redis?: RedisRecord | null;
  /** Null or absent: none (it runs only when asked for). */
  prometheus?: PrometheusRecord | null;
  /** Set for a secure stack (SASL_SSL, ACLs); null or absent for a plaintext one. */
  security?: SecurityRecord | null;
}

const FILE = 'stack.json';

/** The components in start order: Kafka first, the registry (which stores into Kafka), then PostgreSQL, Redis and Prometheus. */
export function components(record: StackRecord): ComponentRecord[] {
  return [
    ...record.kafka,
    ...(record.registry ? [record.registry] : []),
    ...(record.postgres ? [record.postgres] : []),
    ...(record.redis ? [record.redis] : []),
    ...(record.prometheus ? [record.prometheus] : []),
  ];
}

/** The process of a component, when one was recorded. */
export function ownedProcess(component: ComponentRecord): OwnedProcess | undefined {
  if (component.pid === undefined) return undefined;
  // SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to disconnect;
  // SIGINT ("fast") ends their sessions and still checkpoints cleanly.
  return component.kind === 'postgres'
    ? { pid: component.pid, marker: component.marker, stopSignal: 'SIGINT' }
    : { pid: component.pid, marker: component.marker };
}

/** True when the component's recorded process still runs. */
export function isRunning(component: ComponentRecord): boolean {
  const owned = ownedProcess(component);
  return owned !== undefined && isOurs(owned);
}

/** Long enough for a first start that downloads everything. */
const LOCK_TIMEOUT_MS = 30 * 60_000;

/** Runs `fn` holding the lock of the stack in `stateDir`: starts and stops never interleave. */
export function withStackLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  return withLock(join(stateDir, '.lock'), { timeoutMs: LOCK_TIMEOUT_MS, what: `the stack in ${stateDir}` }, fn);
}

/** Reads the record of a state directory; undefined when it holds no stack. */
export async function readRecord(stateDir: string): Promise<StackRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const record = JSON.parse(text) as StackRecord;
  if (record.format !== 1) throw new Error(`${join(stateDir, FILE)} has format ${String(record.format)}; this Junction reads format 1`);
  return record;
}

/** Writes the record atomically, so a crash never leaves half a file. */
export async function writeRecord(stateDir: string, record: StackRecord): Promise<void> {
  const path = join(stateDir, FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** Every state directory under `root` that holds a stack: `root` itself and its test stacks. */
export async function findStateDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  if (await readRecord(root).catch(() => undefined)) found.push(root);
  const tests = join(root, 'test-stacks');
  const entries = await readdir(tests).catch(() => [] as string[]);
  for (const entry of entries) {
    if (await readRecord(join(tests, entry)).catch(() => undefined)) found.push(join(tests, entry));
  }
  return found;
}
