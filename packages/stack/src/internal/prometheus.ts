import type { ChildProcess } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import type { PrometheusOptions } from '../options.ts';
import { HOST } from './ports.ts';
import { launch } from './processes.ts';
import type { PrometheusRecord } from './state.ts';
import { installCommand, packageProviding } from './system-packages.ts';
import { runTool, which } from './tools.ts';

/** Every target carries it: dashboards and alerts filter by namespace, and this one is the laptop's. */
export const LOCAL_NAMESPACE = 'local';

/** The machine's `prometheus` and its release, e.g. `2.42.0`. */
export interface PrometheusBinary {
  path: string;
  version: string;
}

/** Its web UI and HTTP API: `http://127.0.0.1:<port>`. */
export function prometheusUrl(record: Pick<PrometheusRecord, 'port'>): string {
  return `http://${HOST}:${record.port}`;
}

/** The configuration file, in the component's directory. */
export function configFile(record: Pick<PrometheusRecord, 'dir'>): string {
  return join(record.dir, 'prometheus.yml');
}

/** Finds `prometheus` on PATH and asks its version. */
export async function findPrometheus(env: NodeJS.ProcessEnv): Promise<PrometheusBinary> {
  const path = which('prometheus', env);
  if (!path) {
    throw new StackError('prometheus-missing', 'Prometheus was asked for, and this machine has no prometheus on PATH', {
      hint: `install it (${installCommand([packageProviding('prometheus').name])}), or run without it (--no-prometheus)`,
    });
  }
  const result = await runTool(path, ['--version'], { timeoutMs: 10_000 });
  const version = /version (\d+\.\d+\.\d+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? 'unknown';
  return { path, version };
}

/** Applies the fields `options` gives to the record; true when its configuration changed. */
export function configurePrometheus(record: PrometheusRecord, options: PrometheusOptions): boolean {
  const before = renderConfig(record);
  if (options.targets !== undefined) record.targets = options.targets.map((t) => ({ ...t, targets: [...t.targets] }));
  if (options.ruleFiles !== undefined) record.ruleFiles = [...options.ruleFiles];
  if (options.scrapeInterval !== undefined) record.scrapeInterval = options.scrapeInterval;
  if (options.evaluationInterval !== undefined) record.evaluationInterval = options.evaluationInterval;
  return renderConfig(record) !== before;
}

// JSON's quoted strings are YAML's double-quoted scalars, so any job, label or path is safe
// without a YAML library.
const q = (value: string): string => JSON.stringify(value);

/** The `prometheus.yml` for a record: its intervals, rule files and scrape jobs, each target labelled `namespace`. */
export function renderConfig(record: Pick<PrometheusRecord, 'scrapeInterval' | 'evaluationInterval' | 'targets' | 'ruleFiles'>): string {
  const lines = [
    '# Written by @junction/stack; rewritten on every start and whenever the targets change.',
    'global:',
    `  scrape_interval: ${q(record.scrapeInterval)}`,
    `  evaluation_interval: ${q(record.evaluationInterval)}`,
  ];
  lines.push(record.ruleFiles.length === 0 ? 'rule_files: []' : 'rule_files:');
  for (const file of record.ruleFiles) lines.push(`  - ${q(file)}`);
  lines.push(record.targets.length === 0 ? 'scrape_configs: []' : 'scrape_configs:');
  for (const { job, targets, labels } of record.targets) {
    lines.push(`  - job_name: ${q(job)}`, '    static_configs:', `      - targets: [${targets.map(q).join(', ')}]`, '        labels:');
    for (const [name, value] of Object.entries({ namespace: LOCAL_NAMESPACE, ...labels })) lines.push(`          ${name}: ${q(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the configuration whole: a reload never reads half a file. */
export async function writeConfig(record: PrometheusRecord): Promise<void> {
  await mkdir(record.dir, { recursive: true });
  await writeFile(`${configFile(record)}.tmp`, renderConfig(record));
  await rename(`${configFile(record)}.tmp`, configFile(record));
}

/**
 * Writes the configuration and starts the server on loopback, its data in the component's
 * directory. Prometheus refuses unknown flags, so the marker travels in the page title, which
 * only names the browser tab: `--web.page-title=Junction Prometheus (junction.component=<dir>)`.
 */
export async function launchPrometheus(bin: PrometheusBinary, record: PrometheusRecord): Promise<ChildProcess> {
  await writeConfig(record);
  record.version = bin.version;
  return launch({
    command: bin.path,
    args: [
      `--config.file=${configFile(record)}`,
      `--storage.tsdb.path=${join(record.dir, 'data')}`,
      `--web.listen-address=${HOST}:${record.port}`,
      // For POST /-/reload, which the target changes use.
      '--web.enable-lifecycle',
      `--web.page-title=Junction Prometheus (${record.marker})`,
    ],
    logFile: record.logFile,
    cwd: record.dir,
  });
}

/** What the server said when asked whether it is ready. */
export interface PrometheusProbe {
  ok: boolean;
  ms: number;
  error?: string;
}

/** Asks `/-/ready` once, within `timeoutMs`: it answers 200 once the TSDB is open and the configuration loaded. */
export async function probePrometheus(record: Pick<PrometheusRecord, 'port'>, timeoutMs: number): Promise<PrometheusProbe> {
  const started = Date.now();
  try {
    const response = await fetch(`${prometheusUrl(record)}/-/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? { ok: true, ms: Date.now() - started } : { ok: false, ms: Date.now() - started, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error: (error as Error).message };
  }
}

/**
 * Asks the running server to read its configuration again. Prometheus answers once it has
 * applied it, or with why it refused (a bad rule file, say), and then keeps the old one.
 */
export async function reloadPrometheus(record: PrometheusRecord): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${prometheusUrl(record)}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new StackError('reload-failed', `Prometheus at ${prometheusUrl(record)} did not answer the reload: ${(error as Error).message}`, {
      hint: `is it running? read its log: ${record.logFile}`,
      cause: error,
    });
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const reason = (await response.text()).trim();
  throw new StackError('reload-failed', `Prometheus refused its new configuration: ${reason || `HTTP ${response.status}`}`, {
    hint: `fix what it names (promtool check config ${configFile(record)} tells more); it keeps running with the previous one`,
  });
}
