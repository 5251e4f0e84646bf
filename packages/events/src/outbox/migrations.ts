import type { Database } from './database.ts';

/** One schema change, applied once, in order, in its own transaction. */
interface Migration {
  version: number;
  name: string;
  sql: string[];
}

/**
 * The outbox's and the inbox's tables. Append, never edit: a database that applied version N never runs it
 * again. The same SQL runs on PGlite and on PostgreSQL.
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'outbox',
    sql: [
      `CREATE TABLE junction_outbox (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        topic text NOT NULL,
        key text NOT NULL,
        event_type text NOT NULL,
        event_version integer NOT NULL,
        headers jsonb NOT NULL,
        body bytea NOT NULL,
        event_time timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at timestamptz,
        sent_partition integer,
        sent_offset bigint
      )`,
      // The relay reads pending rows in order; sent rows are only kept for a while.
      'CREATE INDEX junction_outbox_pending ON junction_outbox (seq) WHERE sent_at IS NULL',
      'CREATE INDEX junction_outbox_sent ON junction_outbox (sent_at) WHERE sent_at IS NOT NULL',
    ],
  },
  {
    version: 2,
    name: 'inbox',
    sql: [
      // The idempotency middleware's memory: one row per event a group processed. Event ids are
      // text, not uuid: a `ce_id` from outside Junction may be any string.
      `CREATE TABLE junction_inbox (
        group_name text NOT NULL,
        event_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (group_name, event_id)
      )`,
      'CREATE INDEX junction_inbox_expires ON junction_inbox (expires_at)',
    ],
  },
  {
    version: 3,
    name: 'outbox-vacuum',
    sql: [
      // A queue table: every row is updated once (marked sent), leaving a dead row and a dead entry
      // in the pending index, which the relay's every read steps over until VACUUM removes them.
      // By default that waits for 20 % of the table to be dead: with 8,000 dead rows a read of
      // the pending rows touched 131 blocks instead of 2. Vacuumed after every 1,000, whatever the
      // table's size, the read stays small.
      `ALTER TABLE junction_outbox SET (
        autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
        autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000)`,
    ],
  },
];

/** Arbitrary, fixed: the advisory lock that keeps two processes from migrating at once. */
const MIGRATION_LOCK = 4_242_001;

/** Applies the migrations `db` lacks (the outbox's and the inbox's tables); safe to call from many processes at once. Returns the versions applied. */
export async function migrateOutbox(db: Database): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS junction_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query('SELECT version FROM junction_migrations');
    const applied = new Set((rows as Array<{ version: number }>).map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.sql) await tx.query(statement);
      await tx.query('INSERT INTO junction_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
