import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join, parse, sep } from 'node:path';
import { StackError } from '../errors.ts';
import { HOST } from './ports.ts';
import type { PostgresBinaries } from './postgres-binaries.ts';
import { commandLine, launch, processesMentioning } from './processes.ts';
import type { PostgresRecord } from './state.ts';
import { installCommand, packageProviding } from './system-packages.ts';
import { lastLines, runTool, which } from './tools.ts';

/** The system user that runs PostgreSQL when we are root; Debian's package creates it. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home directory (Debian: /var/lib/postgresql), where data it cannot reach elsewhere goes. */
  home: string;
  /** `setpriv`, which switches user and then execs: the pid we record is the server's own. */
  setpriv: string;
}

const SYSTEM_USER = 'postgres';

/** Where clients connect: `postgres://junction@127.0.0.1:<port>/junction` (trust auth, no password). */
export function postgresUrl(record: PostgresRecord): string {
  return `postgres://${record.user}@${HOST}:${record.port}/${record.database}`;
}

/**
 * The cluster's data; initdb wants an empty directory of its own, so the log lives beside it.
 * In the component's directory, unless the server user cannot reach that (see {@link preparePostgres}).
 */
export function dataDir(record: PostgresRecord): string {
  return join(record.dataHome ?? record.dir, 'data');
}

/** Unix sockets go here rather than /var/run/postgresql, which belongs to the machine's own server. */
function socketDir(record: PostgresRecord): string {
  return join(record.dataHome ?? record.dir, 'run');
}

/** Linux allows 107 bytes for a socket path; a deeper state directory gets TCP alone. */
const MAX_SOCKET_PATH = 107;

/**
 * Who runs the server: undefined for the current user, or, when that is root (PostgreSQL
 * refuses to run as root), the `postgres` system user.
 */
export async function serverUser(env: NodeJS.ProcessEnv): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const entry = await runTool('getent', ['passwd', SYSTEM_USER], { timeoutMs: 10_000 });
  const [, , uid, gid, , home] = entry.stdout.trim().split(':');
  const setpriv = which('setpriv', env) ?? which('setpriv', { PATH: '/usr/bin:/bin' });
  if (entry.code !== 0 || uid === undefined || gid === undefined) {
    throw new StackError(
      'postgres-missing',
      `PostgreSQL refuses to run as root, and this machine has no "${SYSTEM_USER}" user to run it as`,
      {
        hint: `install Debian's server (${installCommand([packageProviding('initdb').name])}), which creates that user, or run Junction as an ordinary user`,
      },
    );
  }
  if (!setpriv) {
    throw new StackError('postgres-missing', `PostgreSQL refuses to run as root, and setpriv (to run it as "${SYSTEM_USER}") is missing`, {
      hint: 'apt-get install util-linux, or run Junction as an ordinary user',
    });
  }
  return { name: SYSTEM_USER, uid: Number(uid), gid: Number(gid), home: home || '/var/tmp', setpriv };
}

/** `command args` as the server user: through setpriv when we are root, else unchanged. */
function asServerUser(user: ServerUser | undefined, command: string, args: string[]): { command: string; args: string[] } {
  if (!user) return { command, args };
  return {
    command: user.setpriv,
    args: ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', command, ...args],
  };
}

/** Lets others pass through a directory of ours (search, not list), so the server user can reach its data. */
async function openForTraversal(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
}

/** Hands a directory (and what it holds) to the server user, unless it has it already. */
async function giveTo(user: ServerUser, dir: string): Promise<void> {
  if ((await stat(dir)).uid === user.uid) return;
  const result = await runTool('chown', ['-R', `${user.uid}:${user.gid}`, dir], { timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new StackError('permission-denied', `could not give ${dir} to the ${user.name} user: ${result.stderr.trim()}`, {
      hint: `chown -R ${user.name}: ${dir}, or choose another --state-dir`,
    });
  }
}

/** Whether the server user may `test <flag> <path>` (`-w`: write it, `-x`: pass through it). */
async function userCan(user: ServerUser, flag: '-w' | '-x', path: string): Promise<boolean> {
  const { command, args } = asServerUser(user, 'test', [flag, path]);
  return (await runTool(command, args, { cwd: '/', timeoutMs: 10_000 })).code === 0;
}

/** Fails with the directory to open up when the server user cannot write its data directory. */
async function assertReachable(user: ServerUser, dir: string): Promise<void> {
  if (await userCan(user, '-w', dir)) return;
  const { root } = parse(dir);
  const parts = dir.slice(root.length).split(sep);
  let blocked = dir;
  for (let i = 0; i < parts.length; i += 1) {
    const ancestor = root + parts.slice(0, i).join(sep);
    if (!(await userCan(user, '-x', ancestor))) {
      blocked = ancestor;
      break;
    }
  }
  throw new StackError(
    'permission-denied',
    `PostgreSQL runs as the ${user.name} user (not as root), which cannot reach ${dir}: ${blocked} bars it`,
    {
      hint: `let others pass through it (chmod o+x ${blocked}), or choose a --state-dir outside it`,
    },
  );
}

/**
 * Where a stack's cluster lives when the server user cannot reach the state directory (a clone
 * in root's mode-700 home, a `mktemp -d` folder): a directory of its own under that user's home,
 * named after the state directory, so the same stack finds its data again. A `STATE_DIR` file
 * there says whose it is; `stack down --purge` deletes it with the rest of the stack.
 */
async function relocatedHome(user: ServerUser, record: PostgresRecord): Promise<string> {
  const base = join(user.home, 'junction-stacks');
  // `.junction` reads `junction-<hash>`: named for people, unique by the full path.
  const name = basename(dirname(record.dir)).replace(/^\.+/, '') || 'stack';
  const home = join(base, `${name}-${createHash('sha256').update(record.dir).digest('hex').slice(0, 12)}`);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, 'STATE_DIR'), `${dirname(record.dir)}\n`);
  await giveTo(user, base);
  await chmod(base, 0o700);
  return home;
}
/** A postmaster.pid left by a server that was killed names a pid that is gone (or a zombie): it goes. */
async function removeStalePidFile(record: PostgresRecord): Promise<void> {
  const pidFile = join(dataDir(record), 'postmaster.pid');
  const pid = Number.parseInt((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && commandLine(pid) === undefined) await rm(pidFile, { force: true });
}

/**
 * After a postmaster is killed -9 its server processes (`postgres: <cluster>: walwriter`, …)
 * notice and exit within moments; a new postmaster started before they have gone refuses the
 * data directory ("pre-existing shared memory block is still in use"), so wait for them.
 */
async function waitForOrphans(record: PostgresRecord): Promise<void> {
  const title = `postgres: ${record.clusterName}: `;
  const deadline = Date.now() + 10_000;
  while (processesMentioning(title).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const HBA = `# Written by @junction/stack: a development server that listens on 127.0.0.1 only.
# Anyone on this machine may connect, as with the stack's Kafka and registry.
local all all          trust
host  all all 127.0.0.1/32 trust
`;

/** Options for {@link preparePostgres}. */
export interface PreparePostgresOptions {
  bin: PostgresBinaries;
  record: PostgresRecord;
  user: ServerUser | undefined;
  /** Told where the cluster went when the server user cannot reach the state directory. */
  onRelocate?: (dataHome: string) => void;
}

/**
 * Makes the directories (owned by the server user), and on the first start creates the
 * cluster: UTF8, C collation (byte order, the same on every machine), superuser `record.user`.
 */
export async function preparePostgres({ bin, record, user, onRelocate }: PreparePostgresOptions): Promise<void> {
  await mkdir(record.dir, { recursive: true });
  if (user && record.dataHome === undefined && !existsSync(join(dataDir(record), 'PG_VERSION'))) {
    for (const dir of [dirname(record.dir), record.dir]) await openForTraversal(dir);
    // Only the state directory's own two levels are opened to others: a directory above them
    // (root's mode-700 home) is the user's to decide, so the cluster goes where it can be reached.
    if (!(await userCan(user, '-x', record.dir))) {
      record.dataHome = await relocatedHome(user, record);
      onRelocate?.(record.dataHome);
    }
  }
  const data = dataDir(record);
  await mkdir(data, { recursive: true });
  await mkdir(socketDir(record), { recursive: true });
  if (user) {
    for (const dir of [data, socketDir(record)]) await giveTo(user, dir);
    await assertReachable(user, data);
  }
  // initdb and the server insist that no one else may read the cluster.
  await chmod(data, 0o700);
  await chmod(socketDir(record), 0o700);
  await removeStalePidFile(record);
  await waitForOrphans(record);
  if (existsSync(join(data, 'PG_VERSION'))) return;
  const initdb = asServerUser(user, join(bin.bindir, 'initdb'), [
    '-D',
    data,
    '-U',
    record.user,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-instructions',
  ]);
  const result = await runTool(initdb.command, initdb.args, { cwd: data, timeoutMs: 120_000 });
  if (result.code !== 0) {
    const tail = lastLines(`${result.stdout}\n${result.stderr}`, 15);
    throw new StackError('component-exited', `initdb for ${record.name} failed: ${tail.at(-1) ?? `exit ${result.code}`}`, {
      hint: `read the lines below; to start afresh, delete ${data}`,
      logTail: tail,
    });
  }
  await writeFile(join(data, 'pg_hba.conf'), HBA);
}

/** The major release a data directory was made by, from its PG_VERSION; undefined before initdb. */
export async function dataMajor(record: PostgresRecord): Promise<number | undefined> {
  const text = await readFile(join(dataDir(record), 'PG_VERSION'), 'utf8').catch(() => undefined);
  const major = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  return Number.isInteger(major) ? major : undefined;
}

/**
 * Starts the postmaster itself (not pg_ctl, which would daemonise it out of our sight) as
 * the server user. `-c junction.component=<dir>` is a custom setting PostgreSQL accepts and
 * ignores: it marks the command line as ours, like the Java components' `-D` marker.
 */
export function startPostgres(bin: PostgresBinaries, record: PostgresRecord, user: ServerUser | undefined): ChildProcess {
  const sockets = socketDir(record);
  const socketPath = join(sockets, `.s.PGSQL.${record.port}`);
  const server = asServerUser(user, join(bin.bindir, 'postgres'), [
    '-D',
    dataDir(record),
    '-c',
    record.marker,
    '-c',
    `listen_addresses=${HOST}`,
    '-c',
    `port=${record.port}`,
    '-c',
    `unix_socket_directories=${Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH ? sockets : ''}`,
    '-c',
    `cluster_name=${record.clusterName}`,
    '-c',
    'logging_collector=off',
    // Autovacuum looks at each database every 10 s instead of every minute: the outbox is a queue
    // table vacuumed after every 1,000 dead rows (its own settings), and a minute of them at
    // 100 events/s is 6,000 dead rows that each relay read steps over.
    '-c',
    'autovacuum_naptime=10s',
  ]);
  record.version = bin.version;
  record.bindir = bin.bindir;
  return launch({ command: server.command, args: server.args, logFile: record.logFile, cwd: dataDir(record) });
}

/** What the server said when asked whether it accepts connections. */
export interface PostgresProbe {
  ok: boolean;
  ms: number;
  error?: string;
}

function tcpConnect(port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no connection within ${timeoutMs} ms`);
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

/** Connects over TCP, then asks `pg_isready`, once, within about `timeoutMs`. */
export async function probePostgres(record: PostgresRecord, timeoutMs: number): Promise<PostgresProbe> {
  const started = Date.now();
  const refused = await tcpConnect(record.port, timeoutMs);
  if (refused) return { ok: false, ms: Date.now() - started, error: refused };
  if (!record.bindir) return { ok: true, ms: Date.now() - started };
  // The `postgres` database exists from initdb on; `record.database` only once created.
  const args = ['-h', HOST, '-p', String(record.port), '-U', record.user, '-d', 'postgres', '-t', String(Math.ceil(timeoutMs / 1000))];
  const result = await runTool(join(record.bindir, 'pg_isready'), args, { env: clientEnv(), timeoutMs: timeoutMs + 1000 });
  const ms = Date.now() - started;
  return result.code === 0 ? { ok: true, ms } : { ok: false, ms, error: result.stdout.trim() || `pg_isready exit ${result.code}` };
}

/** The environment for client tools, without PG* variables meant for some other server. */
function clientEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
}

/** Runs one SQL statement with psql as the superuser; resolves with its unaligned output. */
export async function runSql(record: PostgresRecord, database: string, sql: string): Promise<string> {
  if (!record.bindir) throw new Error(`${record.name} has not been started`);
  const args = ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', HOST, '-p', String(record.port), '-U', record.user, '-d', database];
  const result = await runTool(join(record.bindir, 'psql'), [...args, '-c', sql], { env: clientEnv(), timeoutMs: 30_000 });
  if (result.code !== 0) {
    throw new StackError(
      'component-not-ready',
      `${record.name} did not run \`${sql}\`: ${result.stderr.trim() || `psql exit ${result.code}`}`,
      {
        hint: `read its log: ${record.logFile}`,
      },
    );
  }
  return result.stdout.trim();
}

/** Creates the stack's database on the first start; later starts find it there. */
export async function ensureDatabase(record: PostgresRecord): Promise<void> {
  const found = await runSql(record, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${record.database}'`);
  if (found !== '1') await runSql(record, 'postgres', `CREATE DATABASE "${record.database}"`);
}
