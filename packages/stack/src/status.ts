import { brokerAddress, probeKafka } from './internal/kafka.ts';
import { tailFile } from './internal/logs.ts';
import { postgresUrl, probePostgres } from './internal/postgres.ts';
import { isOurs } from './internal/processes.ts';
import { probePrometheus, prometheusUrl } from './internal/prometheus.ts';
import { probeRedis, redisUrl } from './internal/redis.ts';
import { ccompatUrl, probeRegistry } from './internal/registry.ts';
import { type AdminAuth, adminAuth } from './internal/security.ts';
import { type ComponentRecord, components, ownedProcess, readRecord } from './internal/state.ts';
import { resolveOptions } from './options.ts';

/** `running`: its process runs; `stopped`: stopped on purpose; `exited`: it died without being stopped. */
export type ComponentState = 'running' | 'stopped' | 'exited';

/** One component as `stack status` shows it. */
export interface ComponentStatus {
  name: string;
  kind: ComponentRecord['kind'];
  state: ComponentState;
  pid: number | undefined;
  port: number;
  /** The running server's own answer where it gives one (the registry), else the release it was started from (`unknown` before PostgreSQL's first start). */
  version: string;
  /** Whether it answered a health probe just now; undefined when it does not run. */
  healthy: boolean | undefined;
  /** What the probe saw: latency, or the error. */
  detail: string;
  logFile: string;
}

/** The state of a stack, read from its record and checked live. */
export interface StackStatus {
  stateDir: string;
  /** False when the state directory holds no stack. */
  exists: boolean;
  /** True for a stack made with `secure` (SASL_SSL, ACLs). */
  secure: boolean;
  components: ComponentStatus[];
  brokers: string[];
  schemaRegistryUrl: string | undefined;
  postgresUrl: string | undefined;
  redisUrl: string | undefined;
  prometheusUrl: string | undefined;
}

const PROBE_TIMEOUT_MS = 3000;

async function statusOf(component: ComponentRecord, auth: AdminAuth | undefined): Promise<ComponentStatus> {
  const owned = ownedProcess(component);
  const running = owned !== undefined && isOurs(owned);
  const base = {
    name: component.name,
    kind: component.kind,
    state: running ? 'running' : owned ? 'exited' : 'stopped',
    pid: running ? owned?.pid : undefined,
    port: component.port,
    version: component.version,
    logFile: component.logFile,
  } as const;
  if (!running) return { ...base, healthy: undefined, detail: owned ? `pid ${owned.pid} is gone; see its log` : '' };
  if (component.kind === 'kafka') {
    const probe = await probeKafka([brokerAddress(component)], PROBE_TIMEOUT_MS, auth);
    return {
      ...base,
      healthy: probe.ok,
      detail: probe.ok ? `metadata in ${probe.ms} ms, ${probe.brokers} broker(s)` : (probe.error ?? 'no answer'),
    };
  }
  if (component.kind === 'postgres') {
    const probe = await probePostgres(component, PROBE_TIMEOUT_MS);
    return { ...base, healthy: probe.ok, detail: probe.ok ? `accepts connections in ${probe.ms} ms` : (probe.error ?? 'no answer') };
  }
  if (component.kind === 'redis') {
    const probe = await probeRedis(component, PROBE_TIMEOUT_MS);
    return { ...base, healthy: probe.ok, detail: probe.ok ? `PONG in ${probe.ms} ms` : (probe.error ?? 'no answer') };
  }
  if (component.kind === 'prometheus') {
    const probe = await probePrometheus(component, PROBE_TIMEOUT_MS);
    return { ...base, healthy: probe.ok, detail: probe.ok ? `ready in ${probe.ms} ms` : (probe.error ?? 'no answer') };
  }
  const probe = await probeRegistry(component, PROBE_TIMEOUT_MS);
  return {
    ...base,
    version: probe.version ?? base.version,
    healthy: probe.ok,
    detail: probe.ok ? `answered in ${probe.ms} ms` : (probe.error ?? 'no answer'),
  };
}

/** Reads the stack in `stateDir` and probes each running component. */
export async function stackStatus(options: { stateDir?: string } = {}): Promise<StackStatus> {
  const { stateDir } = resolveOptions(options.stateDir ? { stateDir: options.stateDir } : {});
  const record = await readRecord(stateDir);
  if (!record) {
    return {
      stateDir,
      exists: false,
      secure: false,
      components: [],
      brokers: [],
      schemaRegistryUrl: undefined,
      postgresUrl: undefined,
      redisUrl: undefined,
      prometheusUrl: undefined,
    };
  }
  // A secure stack is probed as its admin; secrets deleted under it make the probes fail, saying why.
  let auth: AdminAuth | undefined;
  try {
    auth = record.security ? adminAuth(stateDir) : undefined;
  } catch {
    auth = undefined;
  }
  return {
    stateDir,
    exists: true,
    components: await Promise.all(components(record).map((c) => statusOf(c, auth))),
    secure: Boolean(record.security),
    brokers: record.kafka.map(brokerAddress),
    schemaRegistryUrl: record.registry ? ccompatUrl(record.registry) : undefined,
    postgresUrl: record.postgres ? postgresUrl(record.postgres) : undefined,
    redisUrl: record.redis ? redisUrl(record.redis) : undefined,
    prometheusUrl: record.prometheus ? prometheusUrl(record.prometheus) : undefined,
  };
}

/** The last lines of each component's log. */
export interface ComponentLog {
  name: string;
  logFile: string;
  lines: string[];
}

/** The last `lines` lines of the logs of `component`, or of every component. */
export async function stackLogs(options: { stateDir?: string; component?: string; lines?: number } = {}): Promise<ComponentLog[]> {
  const { stateDir } = resolveOptions(options.stateDir ? { stateDir: options.stateDir } : {});
  const record = await readRecord(stateDir);
  if (!record) return [];
  const chosen = components(record).filter((c) => options.component === undefined || c.name === options.component);
  return Promise.all(
    chosen.map(async (c) => ({ name: c.name, logFile: c.logFile, lines: await tailFile(c.logFile, options.lines ?? 50) })),
  );
}
