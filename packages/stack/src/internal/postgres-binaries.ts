import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './tools.ts';

/** A PostgreSQL server installation found on this machine. */
export interface PostgresBinaries {
  /** Holds `initdb`, `postgres`, `pg_ctl`, `pg_isready` and `psql`. */
  bindir: string;
  /** Major release: 15 for "15.18". */
  major: number;
  /** The full version, as `postgres --version` prints it ("15.18"). */
  version: string;
}

/** Where to look for PostgreSQL; tests narrow it to prove the errors. */
export interface PostgresSearch {
  env: NodeJS.ProcessEnv;
  /** Directories whose `<major>/bin` subdirectories hold a server (Debian: /usr/lib/postgresql). */
  roots: string[];
}

/** Where Debian's (and Ubuntu's) `postgresql-<N>` packages put the server. */
export const DEFAULT_POSTGRES_ROOTS = ['/usr/lib/postgresql'];

/** What a server directory must hold: a client-only install (libpq-dev, psql) has no `initdb`. */
const SERVER_TOOLS = ['initdb', 'postgres', 'pg_ctl'];

/** Parses "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" into "15.18" and 15. */
export function parsePostgresVersion(text: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!match?.[1]) return undefined;
  return { version: match[2] === undefined ? match[1] : `${match[1]}.${match[2]}`, major: Number(match[1]) };
}

/** Inspects one `bin` directory; undefined unless it holds a server that reports its version. */
export function inspectPostgresBindir(bindir: string): PostgresBinaries | undefined {
  if (!SERVER_TOOLS.every((tool) => existsSync(join(bindir, tool)))) return undefined;
  const run = spawnSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 15_000 });
  const parsed = parsePostgresVersion(`${run.stdout ?? ''}`);
  return parsed ? { bindir, ...parsed } : undefined;
}

function pgConfigBindir(env: NodeJS.ProcessEnv): string | undefined {
  const pgConfig = which('pg_config', env);
  if (!pgConfig) return undefined;
  const run = spawnSync(pgConfig, ['--bindir'], { encoding: 'utf8', timeout: 15_000, env });
  const dir = run.status === 0 ? run.stdout.trim() : '';
  return dir === '' ? undefined : dir;
}

/**
 * Every PostgreSQL server on this machine, in order of preference: the one `pg_config --bindir`
 * names, then `<root>/<major>/bin` under each root, highest major first. Debian's `pg_config`
 * comes with libpq-dev and may name a directory without a server; such entries are skipped.
 */
export function listPostgresInstalls(search: PostgresSearch): PostgresBinaries[] {
  const dirs: string[] = [];
  const fromPgConfig = pgConfigBindir(search.env);
  if (fromPgConfig) dirs.push(fromPgConfig);
  for (const root of search.roots) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root).filter((entry) => /^\d+(\.\d+)?$/.test(entry));
    } catch {
      continue;
    }
    entries.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const entry of entries) dirs.push(join(root, entry, 'bin'));
  }
  const installs: PostgresBinaries[] = [];
  for (const dir of new Set(dirs)) {
    const install = inspectPostgresBindir(dir);
    if (install) installs.push(install);
  }
  return installs;
}

/**
 * The server to run: the first install of at least `minMajor`, or, for a data directory made
 * before, the install of exactly its major release (a server never opens another major's data).
 */
export function findPostgres(
  search: PostgresSearch,
  want: { minMajor: number; dataMajor?: number | undefined },
): PostgresBinaries | undefined {
  const installs = listPostgresInstalls(search);
  return want.dataMajor === undefined
    ? installs.find((install) => install.major >= want.minMajor)
    : installs.find((install) => install.major === want.dataMajor);
}

/** "PostgreSQL 15.18 (/usr/lib/postgresql/15/bin)" for each install, for error messages. */
export function describeInstalls(installs: PostgresBinaries[]): string {
  return installs.length === 0 ? 'no PostgreSQL server at all' : installs.map((i) => `PostgreSQL ${i.version} (${i.bindir})`).join(', ');
}
