import { PGlite } from '@electric-sql/pglite';
import pg, { type Pool, type PoolClient } from 'pg';

/**
 * Anything that runs SQL with `$1` parameters: a pg `Pool` or `PoolClient`, PGlite, or the
 * transaction object PGlite hands to `transaction()`. `outbox.add` takes one of these — the
 * caller's transaction — so the event commits or rolls back with the caller's own writes.
 */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /**
   * A transaction on PostgreSQL may run a write whose result nobody reads (the outbox's insert)
   * with its COMMIT, in the same round trip, instead of on its own: `statement` is complete SQL,
   * its values written in as escaped literals. Runs in the order given, before the commit; when
   * it fails, the transaction fails. Absent where there is no such commit (PGlite, a session).
   */
  defer?(statement: string): void;
}

/**
 * A transaction running its statements with `query` that takes deferred writes, and the COMMIT
 * that carries them: one simple query, one round trip. (Statements of one simple query run in
 * one implicit block here: inside BEGIN … COMMIT, they are the transaction's own.)
 */
export function deferringTransaction(query: Queryable['query']): { tx: Queryable; commit(): string } {
  const deferred: string[] = [];
  return {
    tx: { query, defer: (statement) => deferred.push(statement) },
    commit: () => (deferred.length === 0 ? 'COMMIT' : `${deferred.join(';\n')};\nCOMMIT`),
  };
}

/** A PostgreSQL database the outbox relay can use: queries, transactions and a session of its own. */
export interface Database extends Queryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * One connection to keep, for session state such as advisory locks; `release` gives it back.
   * On PGlite, which has one connection, that connection itself.
   */
  session(): Promise<Queryable & { release(): void }>;
  /** Closes what this wrapper opened (a PGlite it opened itself, never a pool it was given). */
  close(): Promise<void>;
  /** `pglite` or `postgres`, for messages. */
  readonly kind: 'pglite' | 'postgres';
}

/** Names of the statements prepared so far, by text; a bound keeps a process's set finite. */
const statementNames = new Map<string, string>();
const MAX_PREPARED = 500;

/**
 * A parameterised statement as a named one, which PostgreSQL parses and plans once per connection
 * instead of on every call: the outbox, the inbox and the services run the same few dozen
 * statements all day. Statements without parameters (DDL, SET) stay unnamed.
 */
function statement(text: string, params: unknown[] | undefined): { name?: string; text: string; values?: unknown[] } {
  if (!params || params.length === 0) return { text, ...(params ? { values: params } : {}) };
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `junction_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return { ...(name ? { name } : {}), text, values: params };
}

/**
 * A connection taken from `pool` for a while. A connection the server ends while it is out (a
 * restart, a failover, `pg_terminate_backend`) emits `error`, which the pool only listens for on
 * idle connections: unheard, it would end the process. Here it is heard, the query in progress
 * fails as usual, and the connection is destroyed on release instead of going back to the pool.
 */
async function checkOut(pool: Pool): Promise<{ client: PoolClient; release(): void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  return {
    client,
    release() {
      client.off('error', onError);
      client.release(broken);
    },
  };
}

/** Wraps a pg pool (real PostgreSQL). The pool stays the caller's: `close` leaves it open. */
export function fromPgPool(pool: Pool): Database {
  return {
    kind: 'postgres',
    query: (text, params) => pool.query(statement(text, params)),
    async transaction(work) {
      const { client, release } = await checkOut(pool);
      try {
        await client.query('BEGIN');
        const { tx, commit } = deferringTransaction((text, params) => client.query(statement(text, params)));
        const result = await work(tx);
        await client.query(commit());
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        release();
      }
    },
    async session() {
      const { client, release } = await checkOut(pool);
      return { query: (text: string, params?: unknown[]) => client.query(statement(text, params)), release };
    },
    async close() {},
  };
}

/**
 * How long a connection may sit idle in the pool before it is closed. pg's default, 10 s, closed
 * the connections a burst had opened as soon as it passed, so the next burst opened them again:
 * a new PostgreSQL backend (a fork, authentication, catalog caches, every named statement parsed
 * again) at the moment the load peaks. In `bench flow` at 100 orders/s, 20 of 45 connections had
 * been opened within the measured 30 s. The pool's `max` bounds what stays open.
 */
const IDLE_CONNECTION_MS = 300_000;

/**
 * Opens a pool to the PostgreSQL at `url`, owned by the wrapper: `close` ends it. Connections
 * time out after 5 s; an idle connection the server drops is replaced, not an error.
 */
export function openPostgres(url: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: IDLE_CONNECTION_MS,
  });
  pool.on('error', () => {});
  return { ...fromPgPool(pool), close: () => pool.end() };
}

/** Wraps a PGlite instance. `owned`: close it with the wrapper. */
export function fromPGlite(db: PGlite, owned = false): Database {
  return {
    kind: 'pglite',
    query: (text, params) => db.query(text, params),
    transaction: (work) => db.transaction((tx) => work(tx)),
    async session() {
      return { query: (text: string, params?: unknown[]) => db.query(text, params), release: () => {} };
    },
    async close() {
      if (owned && !db.closed) await db.close();
    },
  };
}

/** Opens (or creates) a file-backed PGlite database in `dataDir`: the embedded default. */
export async function openPGlite(dataDir: string): Promise<Database> {
  return fromPGlite(await PGlite.create(dataDir), true);
}
