import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { repositoryRoot } from './paths.ts';

/** A Junction service process this CLI started. */
export interface ServiceProcess {
  readonly name: string;
  /** Where it answers, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 15 s). */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** The folder under `services/`, e.g. `gateway`. */
  name: string;
  /** Where it will answer, for the readiness check and the printed endpoints. */
  url: string;
  /** The path answered with 200 once it is ready, e.g. `/readyz`. */
  readyPath: string;
  env: Record<string, string>;
  /** Variables of this CLI's environment the service must not inherit (keys it has no use for). */
  withhold?: readonly string[];
  /** Its output goes here, one JSON log line after another. */
  logFile: string;
  /** How long it may take to be ready. Default 60 s. */
  timeoutMs?: number;
  /** PEM of a CA to trust when `url` is HTTPS with a local certificate. */
  caFile?: string;
}

/**
 * Node's arguments to run a service's process entry `file` (`main`, `keys-command`): its built
 * `dist/<file>.js`, or its sources when this CLI runs from its own sources (tests).
 */
export function entry(name: string, file = 'main'): string[] {
  const root = repositoryRoot();
  const fromSource = import.meta.url.endsWith('.ts');
  const dist = join(root, 'services', name, 'dist', `${file}.js`);
  if (!fromSource && existsSync(dist)) return [dist];
  return ['--conditions=junction-source', '--no-warnings', join(root, 'services', name, 'src', `${file}.ts`)];
}

/** Whether `url` answers 200 within 2 s; HTTPS trusts `ca` (a local CA's PEM) when given. */
function answers(url: string, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const https = url.startsWith('https:');
    const call = (https ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: 2000, ...(https && ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    call.on('timeout', () => call.destroy());
    call.on('error', () => resolve(false));
    call.end();
  });
}

/** `env` without `names`. */
function withheld(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  if (!names.length) return env;
  const kept = { ...env };
  for (const name of names) delete kept[name];
  return kept;
}

/** The last lines of a log, for an error that says why a service did not start. */
async function tail(file: string, lines = 8): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Starts `services/<name>` as a child process of this CLI (it ends with it) and waits until it
 * answers `readyPath`. Fails with the end of its log when it exits or is not ready in time.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  await mkdir(join(options.logFile, '..'), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, entry(options.name), {
    cwd: repositoryRoot(),
    env: {
      ...withheld(process.env, options.withhold ?? []),
      ...options.env,
      ...(options.caFile ? { NODE_EXTRA_CA_CERTS: options.caFile } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const probe = `${options.url}${options.readyPath}`;
  const ca = options.caFile ? await readFile(options.caFile) : undefined;
  for (;;) {
    if (exited !== undefined) {
      log.end();
      throw new JunctionError(
        'config.invalid',
        `${options.name} exited (code ${exited}) before it was ready; the end of ${options.logFile}:\n${await tail(options.logFile)}`,
      );
    }
    if (await answers(probe, ca)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new JunctionError(
        'timeout',
        `${options.name} did not answer ${probe} within ${options.timeoutMs ?? 60_000} ms; the end of ${options.logFile}:\n${await tail(options.logFile)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    name: options.name,
    url: options.url,
    pid: child.pid as number,
    logFile: options.logFile,
    alive: () => exited === undefined,
    async stop(graceMs = 15_000) {
      if (exited === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(killer);
      }
      log.end();
    },
  };
}
