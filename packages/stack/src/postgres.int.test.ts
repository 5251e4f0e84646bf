import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree } from './internal/ports.ts';
import { DEFAULT_POSTGRES_ROOTS, findPostgres } from './internal/postgres-binaries.ts';
import { commandLine, processesMentioning } from './internal/processes.ts';
import { readRecord } from './internal/state.ts';
import { runTool } from './internal/tools.ts';
import { type Stack, startStack } from './stack.ts';
import { stackStatus } from './status.ts';
import { stopStack } from './stop.ts';

const stateDirs: string[] = [];
const newStateDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'junction-postgres-int-'));
  stateDirs.push(dir);
  return dir;
};

afterAll(async () => {
  for (const stateDir of stateDirs.reverse()) {
    await stopStack({ stateDir, purge: true, graceMs: 5000 });
    await rm(stateDir, { recursive: true, force: true });
  }
});

const server = findPostgres({ env: process.env, roots: DEFAULT_POSTGRES_ROOTS }, { minMajor: 15 });

/** Runs SQL with the psql that sits beside initdb, as a client would, over TCP. */
async function psql(url: string, sql: string): Promise<string> {
  if (!server) throw new Error('this machine needs PostgreSQL 15+ (apt-get install postgresql) to run the stack tests');
  const result = await runTool(join(server.bindir, 'psql'), ['-X', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    timeoutMs: 30_000,
  });
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** The user a process runs as, from /proc. */
async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

/** Processes of a stack's PostgreSQL: the postmaster (by its marker) and its servers (by their titles). */
async function postgresProcesses(stateDir: string): Promise<number[]> {
  const record = await readRecord(stateDir);
  if (!record?.postgres) throw new Error(`no PostgreSQL in ${stateDir}`);
  return [...processesMentioning(record.postgres.marker), ...processesMentioning(`postgres: ${record.postgres.clusterName}: `)];
}

describe('PostgreSQL in the stack', () => {
  let stack: Stack;
  let pid: number;

  it('starts with Kafka, as the postgres user when we are root, and answers on its URL', async () => {
    const stateDir = await newStateDir();
    stack = await startStack({ stateDir, ports: 'auto', registry: false, redis: false });
    expect(stack.started).toEqual(['kafka-1', 'postgres']);
    expect(stack.postgresUrl).toMatch(/^postgres:\/\/junction@127\.0\.0\.1:\d+\/junction$/);

    const status = await stackStatus({ stateDir });
    const postgres = status.components.find((c) => c.name === 'postgres');
    expect(postgres).toMatchObject({ kind: 'postgres', state: 'running', healthy: true, version: server?.version });
    pid = postgres?.pid ?? 0;
    expect(processesMentioning(stateDir).sort()).toEqual([stack.nodes[0]?.pid, pid].sort());
    expect(commandLine(pid)).toContain(`-c junction.component=${join(stateDir, 'postgres')}`);
    if (process.getuid?.() === 0) expect(await uidOf(pid)).not.toBe(0);
    expect(await psql(stack.postgresUrl ?? '', 'SHOW listen_addresses')).toBe('127.0.0.1');
  });

  it('keeps its data when stopped and started again', async () => {
    const url = stack.postgresUrl ?? '';
    await psql(url, "CREATE TABLE outbox (id serial PRIMARY KEY, topic text NOT NULL); INSERT INTO outbox (topic) VALUES ('orders.order')");
    expect(await stopStack({ stateDir: stack.stateDir, only: ['postgres'] })).toEqual(['postgres']);
    expect(await postgresProcesses(stack.stateDir)).toEqual([]);

    const again = await startStack({ stateDir: stack.stateDir });
    expect(again.started).toEqual(['postgres']);
    expect(again.postgresUrl).toBe(url);
    expect(await psql(url, 'SELECT topic FROM outbox')).toBe('orders.order');
    stack = again;
  });

  it('is started again with its data after a kill -9', async () => {
    expect(stack.kill('postgres', 'SIGKILL')).toBe(true);
    await expect
      .poll(async () => (await stackStatus({ stateDir: stack.stateDir })).components.find((c) => c.name === 'postgres')?.state, {
        timeout: 10_000,
      })
      .toBe('exited');

    const restarted = await startStack({ stateDir: stack.stateDir });
    expect(restarted.started).toEqual(['postgres']);
    await psql(restarted.postgresUrl ?? '', "INSERT INTO outbox (topic) VALUES ('billing.payment')");
    expect(await psql(restarted.postgresUrl ?? '', 'SELECT topic FROM outbox ORDER BY id')).toBe('orders.order\nbilling.payment');
  });

  it('stops with the stack and leaves no process and no port behind', async () => {
    const status = await stackStatus({ stateDir: stack.stateDir });
    const port = status.components.find((c) => c.name === 'postgres')?.port ?? 0;
    expect((await stopStack({ stateDir: stack.stateDir })).sort()).toEqual(['kafka-1', 'postgres']);
    expect(processesMentioning(stack.stateDir)).toEqual([]);
    expect(await postgresProcesses(stack.stateDir)).toEqual([]);
    expect(await isPortFree(port)).toBe(true);
  });
});

describe('a state directory the server user cannot reach', () => {
  // Only root hands the server to another user; anyone else runs it as themselves, in place.
  it('keeps the cluster where that user can reach it, without opening the directory above, and purges it with the stack', async () => {
    const parent = await newStateDir();
    await chmod(parent, 0o700);
    const stateDir = join(parent, 'state');
    await mkdir(stateDir);
    stateDirs.push(stateDir);
    const messages: string[] = [];
    const stack = await startStack({ stateDir, ports: 'auto', registry: false, redis: false, onProgress: (m) => messages.push(m) });
    expect(stack.started).toEqual(['kafka-1', 'postgres']);
    const dataHome = (await readRecord(stateDir))?.postgres?.dataHome;
    if (process.getuid?.() !== 0) {
      expect(dataHome).toBeUndefined();
      return;
    }
    expect(dataHome).toMatch(/^\/.+\/junction-stacks\/state-[0-9a-f]{12}$/);
    expect(existsSync(join(dataHome ?? '', 'data', 'PG_VERSION'))).toBe(true);
    expect(messages).toContainEqual(expect.stringContaining(`its data lives in ${dataHome}`));
    // The user's directory stays as private as they made it.
    expect((await stat(parent)).mode & 0o777).toBe(0o700);

    const url = stack.postgresUrl ?? '';
    await psql(url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')");
    await stopStack({ stateDir, only: ['postgres'] });
    const again = await startStack({ stateDir });
    expect(again.started).toEqual(['postgres']);
    expect((await readRecord(stateDir))?.postgres?.dataHome).toBe(dataHome);
    expect(await psql(url, 'SELECT note FROM kept')).toBe('still here');

    await stopStack({ stateDir, purge: true });
    expect(existsSync(dataHome ?? '')).toBe(false);
    expect(processesMentioning(stateDir)).toEqual([]);
  });
});
