import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import { HOST } from './ports.ts';
import { launch } from './processes.ts';
import type { RedisRecord } from './state.ts';
import { installCommand, packageProviding } from './system-packages.ts';
import { runTool, which } from './tools.ts';

/** The machine's `redis-server` and its release, e.g. `7.0.15`. */
export interface RedisBinary {
  path: string;
  version: string;
}

/** Where clients connect: `redis://127.0.0.1:<port>`. */
export function redisUrl(record: RedisRecord): string {
  return `redis://${HOST}:${record.port}`;
}

/** The configuration file, in the component's directory; its path is unique to the stack. */
export function configFile(record: RedisRecord): string {
  return join(record.dir, 'redis.conf');
}

/** Finds `redis-server` on PATH and asks its version. */
export async function findRedis(env: NodeJS.ProcessEnv): Promise<RedisBinary> {
  const path = which('redis-server', env);
  if (!path) {
    throw new StackError('redis-missing', 'the stack needs a Redis server, and this machine has no redis-server on PATH', {
      hint: `install it (${installCommand([packageProviding('redis-server').name])}), or run without it (--no-redis)`,
    });
  }
  const result = await runTool(path, ['--version'], { timeoutMs: 10_000 });
  const version = /v=(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? 'unknown';
  return { path, version };
}

// A development server: loopback only, protected mode on, no persistence (it holds dedupe
// claims and rate-limit counters, which may be lost), logs to stdout (the component's log).
function config(record: RedisRecord): string {
  return `# Written by @junction/stack; rewritten on every start.
bind ${HOST}
port ${record.port}
protected-mode yes
daemonize no
logfile ""
dir ${record.dir}
save ""
appendonly no
`;
}

/**
 * Writes the configuration and starts the server. Redis refuses unknown arguments, so the
 * marker travels in its process title template: `{title} {listen-addr} junction.component=<dir>`
 * shows in the command line before and after Redis rewrites its title, for `down` and for
 * CI's stray-process clean-up alike.
 */
export async function startRedis(bin: RedisBinary, record: RedisRecord): Promise<ChildProcess> {
  await mkdir(record.dir, { recursive: true });
  await writeFile(configFile(record), config(record));
  record.version = bin.version;
  return launch({
    command: bin.path,
    args: [configFile(record), '--proc-title-template', `{title} {listen-addr} ${record.marker}`],
    logFile: record.logFile,
    cwd: record.dir,
  });
}

/** What the server said to a PING. */
export interface RedisProbe {
  ok: boolean;
  ms: number;
  error?: string;
}

/** Sends `PING` over a fresh connection and waits for `+PONG`, within `timeoutMs`. */
export function probeRedis(record: RedisRecord, timeoutMs: number): Promise<RedisProbe> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port: record.port, timeout: timeoutMs });
    let answer = '';
    const done = (error?: string) => {
      socket.destroy();
      resolve(error === undefined ? { ok: true, ms: Date.now() - started } : { ok: false, ms: Date.now() - started, error });
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG') ? undefined : answer.trim());
    });
    socket.once('timeout', () => done(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error) => done(error.message));
  });
}
