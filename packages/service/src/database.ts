import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Database, migrateOutbox, openPGlite, openPostgres } from '@junction/events';
import { JunctionError } from '@junction/observability';
import type { ServiceConfig } from './config.ts';

/** A migration file's name: `001_orders.sql`, applied in the order of its number. */
const MIGRATION_FILE = /^(\d{3,})_[a-z0-9_-]+\.sql$/;

/** Arbitrary, fixed: the transaction lock that lets one replica at a time migrate a schema. */
const MIGRATION_LOCK = 4_242_101;

/**
 * Opens the service's database with its own schema first on the search path, so its tables, its
 * outbox and its inbox live apart from every other service's on a shared PostgreSQL. PostgreSQL
 * gets the schema on every pooled connection (`options=-c search_path=…`); PGlite, one connection,
 * gets it once. `max` bounds a PostgreSQL pool (default 10 connections).
 */
export async function openServiceDatabase(
  config: Pick<ServiceConfig<unknown>, 'database' | 'schema'>,
  options: { max?: number } = {},
): Promise<Database> {
  const { schema } = config;
  if (config.database.kind === 'pglite') {
    await mkdir(config.database.dir, { recursive: true });
    const db = await openPGlite(config.database.dir);
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await db.query(`SET search_path TO ${schema}`);
    return db;
  }
  const url = new URL(config.database.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const db = openPostgres(url.toString(), options);
  try {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    await db.close();
    throw new JunctionError('database.unavailable', `cannot reach PostgreSQL at ${config.database.url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return db;
}

/** One SQL file of a service's migrations. */
export interface Migration {
  version: number;
  name: string;
  /** Its statements: the file split where a `;` ends a line (PGlite runs one statement per query). */
  statements: string[];
}

/** Splits SQL at each `;` that ends a line; `--` comment lines go. A `;` inside a line (a string, a body) stays. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;[ \t]*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** Reads `NNN_name.sql` files from `dir` in order; any other file there is an error, named. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  const wrong = names.filter((name) => !MIGRATION_FILE.test(name));
  if (wrong.length > 0) {
    throw new JunctionError('config.invalid', `${dir} holds files that are not migrations (NNN_name.sql): ${wrong.join(', ')}`);
  }
  const migrations = await Promise.all(
    names.map(async (name) => ({
      version: Number(MIGRATION_FILE.exec(name)?.[1]),
      name,
      statements: splitStatements(await readFile(join(dir, name), 'utf8')),
    })),
  );
  const seen = new Map<number, string>();
  for (const m of migrations) {
    const other = seen.get(m.version);
    if (other) throw new JunctionError('config.invalid', `${dir}: ${other} and ${m.name} share the number ${m.version}`);
    seen.set(m.version, m.name);
  }
  return migrations;
}

/**
 * Brings the service's schema up to date: the platform's tables (outbox, inbox) first, then the
 * service's own migrations not applied yet, each in one transaction with its record in
 * `service_migrations`. A migration that fails rolls back alone and stops the start, naming it.
 * Returns the names applied now.
 */
export async function migrateService(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  await migrateOutbox(db);
  await db.query(`CREATE TABLE IF NOT EXISTS service_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const { rows } = await tx.query('SELECT 1 FROM service_migrations WHERE version = $1', [migration.version]);
      if (rows.length > 0) return false;
      try {
        for (const statement of migration.statements) await tx.query(statement);
      } catch (error) {
        throw new JunctionError('config.invalid', `migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      await tx.query('INSERT INTO service_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return applied;
}
