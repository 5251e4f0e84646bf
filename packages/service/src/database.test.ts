import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '@junction/events';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateService, openServiceDatabase, readMigrations, splitStatements } from './database.ts';

describe('splitStatements', () => {
  it('splits at a ; that ends a line, drops comment lines, keeps a ; inside a line', () => {
    expect(splitStatements("-- tables\nCREATE TABLE a (x text DEFAULT ';');\n\nCREATE INDEX a_x ON a (x);")).toEqual([
      "CREATE TABLE a (x text DEFAULT ';')",
      'CREATE INDEX a_x ON a (x)',
    ]);
  });
});

describe('a service database on PGlite', () => {
  const dirs: string[] = [];
  const opened: Database[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const scratch = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-service-db-'));
    dirs.push(dir);
    return dir;
  };
  const open = async (dir: string, schema = 'orders') => {
    const db = await openServiceDatabase({ database: { kind: 'pglite', dir }, schema });
    opened.push(db);
    return db;
  };

  it('applies migrations in order into its own schema, once, recording each', async () => {
    const dir = await scratch();
    const migrations = join(dir, 'migrations');
    await mkdir(migrations);
    await writeFile(join(migrations, '002_index.sql'), 'CREATE INDEX items_sku ON items (sku);\n');
    await writeFile(join(migrations, '001_items.sql'), "CREATE TABLE items (sku text PRIMARY KEY);\nINSERT INTO items VALUES ('SKU-1');\n");
    const db = await open(join(dir, 'data'));
    const list = await readMigrations(migrations);
    expect(await migrateService(db, list)).toEqual(['001_items.sql', '002_index.sql']);
    expect(await migrateService(db, list)).toEqual([]);
    const { rows } = await db.query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'");
    expect(rows).toEqual([{ table_schema: 'orders' }]);
    const recorded = await db.query('SELECT version, name FROM service_migrations ORDER BY version');
    expect(recorded.rows).toEqual([
      { version: 1, name: '001_items.sql' },
      { version: 2, name: '002_index.sql' },
    ]);
  });

  it('rolls back a failing migration alone, names it, and applies nothing after it', async () => {
    const dir = await scratch();
    const db = await open(join(dir, 'data'));
    const migrations = [
      { version: 1, name: '001_ok.sql', statements: ['CREATE TABLE ok (x int)'] },
      { version: 2, name: '002_broken.sql', statements: ['CREATE TABLE half (x int)', 'CREATE TABLE oops (x nosuchtype)'] },
      { version: 3, name: '003_later.sql', statements: ['CREATE TABLE later (x int)'] },
    ];
    await expect(migrateService(db, migrations)).rejects.toThrow(/^migration 002_broken\.sql failed: .*nosuchtype/);
    const { rows } = await db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'orders' AND table_name IN ('ok', 'half', 'later')",
    );
    expect(rows).toEqual([{ table_name: 'ok' }]);
  });

  it('refuses a migrations directory holding other files or two files of one number, naming them', async () => {
    const dir = await scratch();
    await writeFile(join(dir, '001_a.sql'), 'SELECT 1;');
    await writeFile(join(dir, 'notes.txt'), 'hi');
    await expect(readMigrations(dir)).rejects.toThrow(/holds files that are not migrations \(NNN_name\.sql\): notes\.txt/);
    await rm(join(dir, 'notes.txt'));
    await writeFile(join(dir, '001_b.sql'), 'SELECT 1;');
    await expect(readMigrations(dir)).rejects.toThrow(/001_a\.sql and 001_b\.sql share the number 1/);
  });
});
