import { JunctionError } from '@junction/observability';
import pg from 'pg';
import { type Database, deferringTransaction, type Queryable } from '../../outbox/database.ts';
import type { InboxKey, InboxStore, InboxVerdict } from './store.ts';

const { escapeLiteral } = pg;

/** Options of {@link postgresInbox}. */
export interface PostgresInboxOptions {
  /** How often, at most, expired rows are deleted (one chunk each time). Default one minute. */
  purgeEveryMs?: number;
  /** Rows deleted per purge, so a backlog never becomes one long delete. Default 1,000. */
  purgeChunk?: number;
}

// An expired row counts as absent: the upsert takes it over. On PostgreSQL a second copy of an
// event blocks on the first one's row until that transaction ends, then sees it (duplicate) or,
// after a rollback, inserts it itself: concurrent duplicates run the handler once.
const claim = (group: string, eventId: string, ttlMs: string) => `INSERT INTO junction_inbox (group_name, event_id, expires_at)
  VALUES (${group}, ${eventId}, now() + ${ttlMs}::float8 * interval '1 millisecond')
  ON CONFLICT (group_name, event_id) DO UPDATE
    SET processed_at = now(), expires_at = excluded.expires_at
    WHERE junction_inbox.expires_at <= now()
  RETURNING event_id`;

/** The claim with parameters. */
const CLAIM = claim('$1', '$2', '$3');

/**
 * The key's transaction lock: 64 bits of its hash, under a prefix of the inbox's own, since
 * advisory locks are one space for the whole database.
 */
const lock = (name: string) => `SELECT pg_advisory_xact_lock(hashtextextended('junction-inbox/' || ${name}, 0))`;

/** The claim with the key's values written in, for the simple protocol; after the key's lock when it has one. */
function claimLiteral(key: InboxKey): string {
  const ttlMs = Number(key.ttlMs);
  if (!Number.isFinite(ttlMs)) throw new JunctionError('config.invalid', `inbox: ttlMs must be a number, got ${key.ttlMs}`);
  const claimed = claim(escapeLiteral(key.group), escapeLiteral(key.eventId), String(ttlMs));
  // Statements of one simple query each take their own snapshot: the claim, after the lock, sees
  // what the lock's last holder committed.
  return key.lock === undefined ? claimed : `${lock(escapeLiteral(key.lock))}; ${claimed}`;
}

type Work = (tx: Queryable | undefined) => Promise<void>;

const PURGE = `DELETE FROM junction_inbox WHERE (group_name, event_id) IN (
  SELECT group_name, event_id FROM junction_inbox WHERE expires_at <= now() LIMIT $1)`;

/**
 * The inbox in PostgreSQL or PGlite (table `junction_inbox`, made by `migrateOutbox`). In one
 * transaction it claims the event's row and runs the handler with that transaction: the row
 * and every write the handler makes through `ctx.tx` commit together, or not at all when the
 * handler throws, so a retry finds the event unprocessed. Exactly-once effects, as far as the
 * handler writes to this database. The handler must write through `ctx.tx`, not through `db`:
 * PGlite has one connection, and the open transaction holds it.
 */
export function postgresInbox(db: Database, options: PostgresInboxOptions = {}): InboxStore {
  const purgeEveryMs = options.purgeEveryMs ?? 60_000;
  const purgeChunk = options.purgeChunk ?? 1_000;
  let lastPurge = Date.now();

  const purge = async () => {
    if (Date.now() - lastPurge < purgeEveryMs) return;
    lastPurge = Date.now();
    // Housekeeping: a failure here must not fail a record that was processed.
    await db.query(PURGE, [purgeChunk]).catch(() => {});
  };

  /** PGlite: one connection, its own transactions; the claim is a statement of its own. */
  const embedded = (key: InboxKey, work: Work, failed: () => void): Promise<InboxVerdict> =>
    db.transaction(async (tx) => {
      if (key.lock !== undefined) await tx.query(lock('$1::text'), [key.lock]);
      const claimed = await tx.query(CLAIM, [key.group, key.eventId, key.ttlMs]);
      if (claimed.rows.length === 0) return 'duplicate';
      try {
        await work(tx);
      } catch (error) {
        failed();
        throw error;
      }
      return 'processed';
    });

  /**
   * PostgreSQL: BEGIN, the key's lock and the claim go in one round trip, as one simple query
   * with the key's values as escaped literals (the simple protocol takes no parameters, and runs
   * several statements). An event costs the handler's statements and two round trips more, not
   * three or four.
   */
  const server = async (key: InboxKey, work: Work, failed: () => void): Promise<InboxVerdict> => {
    const session = await db.session();
    try {
      const results = (await session.query(`BEGIN; ${claimLiteral(key)}`)) as unknown;
      const claim = Array.isArray(results) ? (results.at(-1) as { rows: unknown[] }) : (results as { rows: unknown[] });
      if (claim.rows.length === 0) {
        await session.query('ROLLBACK');
        return 'duplicate';
      }
      const { tx, commit } = deferringTransaction((text, params) => session.query(text, params));
      try {
        await work(tx);
      } catch (error) {
        failed();
        throw error;
      }
      await session.query(commit());
      return 'processed';
    } catch (error) {
      await session.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      session.release();
    }
  };

  return {
    async run(key, work) {
      let handlerFailed = false;
      let verdict: InboxVerdict;
      try {
        verdict = await (db.kind === 'postgres' ? server : embedded)(key, work, () => {
          handlerFailed = true;
        });
      } catch (error) {
        if (handlerFailed) throw error;
        throw new JunctionError('inbox.unavailable', `the ${db.kind} inbox failed for event ${key.eventId}: ${(error as Error).message}`, {
          cause: error,
          context: { group: key.group, eventId: key.eventId, store: db.kind },
        });
      }
      await purge();
      return verdict;
    },
    async close() {},
  };
}
