import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackError } from './errors.ts';
import { Launches, waitReady } from './internal/launches.ts';
import { freePorts, isPortFree } from './internal/ports.ts';
import { isOurs, type OwnedProcess, stopProcesses } from './internal/processes.ts';
import {
  configurePrometheus,
  findPrometheus,
  launchPrometheus,
  probePrometheus,
  prometheusUrl,
  reloadPrometheus,
  writeConfig,
} from './internal/prometheus.ts';
import { isRunning, type PrometheusRecord, readRecord, withStackLock, writeRecord } from './internal/state.ts';
import {
  absoluteRules,
  checkOptions,
  type PrometheusOptions,
  prometheusOptionsSchema,
  resolveOptions,
  type ScrapeTarget,
} from './options.ts';

/**
 * Replaces the scrape jobs of the stack's Prometheus (in `stateDir`, default as for
 * `startStack`) and, when it runs, reloads it: resolves once Prometheus has applied them, so a
 * test can add the processes it starts. The jobs are recorded, and kept across restarts.
 */
export async function setPrometheusTargets(options: { stateDir?: string; targets: ScrapeTarget[] }): Promise<void> {
  checkOptions(prometheusOptionsSchema.pick({ targets: true }), { targets: options.targets }, 'Prometheus targets');
  const { stateDir } = resolveOptions(options.stateDir ? { stateDir: options.stateDir } : {});
  await withStackLock(stateDir, async () => {
    const record = await readRecord(stateDir);
    const prometheus = record?.prometheus;
    if (!record || !prometheus) {
      throw new StackError('stack-missing', `the stack in ${stateDir} has no Prometheus`, {
        hint: 'start it with one: ./junction stack up, or startStack({ prometheus: { targets } })',
      });
    }
    if (!configurePrometheus(prometheus, { targets: options.targets })) return;
    await writeConfig(prometheus);
    if (isRunning(prometheus)) await reloadPrometheus(prometheus);
    await writeRecord(stateDir, record);
  });
}

/** Options of {@link startPrometheus}: a Prometheus of its own, outside any stack. */
export interface PrometheusServerOptions extends PrometheusOptions {
  /**
   * Holds its configuration, data, log and pid file; made when missing. A test's belongs under
   * the temp directory and named `junction-…`, where CI's clean-up finds strays by the marker.
   */
  dir: string;
  /** 127.0.0.1 only. Default: a free port. */
  port?: number;
  /** How long it may take to say it is ready. Default 60 s. */
  readyTimeoutMs?: number;
  /** Environment used to find `prometheus`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A running Prometheus that {@link startPrometheus} started. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`: the UI and the HTTP API. */
  url: string;
  pid: number;
  dir: string;
  logFile: string;
  /** Replaces the scrape jobs; resolves once Prometheus has applied them. */
  setTargets(targets: ScrapeTarget[]): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`, default 10 s) and removes its pid file. */
  stop(graceMs?: number): Promise<void>;
}

const serverOptionsSchema = prometheusOptionsSchema
  .extend({
    dir: z.string().min(1),
    port: z.number().int().min(1).max(65_535).optional(),
    readyTimeoutMs: z.number().int().positive().optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
  })
  .strict();

const PROBE_TIMEOUT_MS = 3000;

/** A live Prometheus of an earlier start in `dir`: two would fight over the same data. */
async function refuseRunning(dir: string, pidFile: string, marker: string): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && isOurs({ pid, marker })) {
    throw new StackError('state-conflict', `a Prometheus (pid ${pid}) already runs in ${dir}`, {
      hint: `stop it first (kill ${pid}), or give another directory`,
    });
  }
}

/**
 * Starts the machine's Prometheus on its own, without Kafka or a stack: for a test that
 * scrapes the processes it starts and checks alert rules against them. Its command line
 * carries `junction.component=<dir>`, as the stack's components do. Returns once `/-/ready`
 * answers; a failed start stops it and says why, with the last lines of its log.
 */
export async function startPrometheus(options: PrometheusServerOptions): Promise<PrometheusServer> {
  checkOptions(serverOptionsSchema, options, 'Prometheus options');
  const { dir, port, readyTimeoutMs = 60_000, env = process.env, ...config } = options;
  const home = resolve(dir);
  const record: PrometheusRecord = {
    kind: 'prometheus',
    name: 'prometheus',
    port: port ?? (await freePorts(1))[0] ?? 0,
    dir: home,
    logFile: join(home, 'prometheus.log'),
    marker: `junction.component=${home}`,
    version: 'unknown',
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    targets: [],
    ruleFiles: [],
  };
  configurePrometheus(record, absoluteRules(config));
  const pidFile = join(home, 'prometheus.pid');
  await mkdir(home, { recursive: true });
  await refuseRunning(home, pidFile, record.marker);
  if (!(await isPortFree(record.port))) {
    throw new StackError('port-in-use', `port ${record.port}, wanted by Prometheus, is in use by another process`, {
      hint: `stop that process (see \`ss -ltnp 'sport = :${record.port}'\`), or leave the port out to get a free one`,
    });
  }
  const bin = await findPrometheus(env);
  const launches = new Launches();
  launches.add(record, await launchPrometheus(bin, record));
  const owned: OwnedProcess = { pid: record.pid ?? 0, marker: record.marker };
  await writeFile(pidFile, `${owned.pid}\n`);
  const stop = async (graceMs = 10_000) => {
    await stopProcesses([owned], graceMs);
    await rm(pidFile, { force: true });
  };
  try {
    await waitReady({
      what: record,
      watch: [record],
      launches,
      deadline: Date.now() + readyTimeoutMs,
      probe: () => probePrometheus(record, PROBE_TIMEOUT_MS),
    });
  } catch (error) {
    await stop(5000).catch(() => {});
    throw error;
  }
  return {
    url: prometheusUrl(record),
    pid: owned.pid,
    dir: home,
    logFile: record.logFile,
    setTargets: async (targets) => {
      checkOptions(prometheusOptionsSchema.pick({ targets: true }), { targets }, 'Prometheus targets');
      if (!configurePrometheus(record, { targets })) return;
      await writeConfig(record);
      await reloadPrometheus(record);
    },
    stop,
  };
}
