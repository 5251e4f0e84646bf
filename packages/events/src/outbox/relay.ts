import { JunctionError, type Logger, probes, registerProbe } from '@junction/observability';
import { type BackoffOptions, backoffDelay } from '../backoff.ts';
import { subjectName } from '../contracts/catalog.ts';
import { eventBytes, type PreparedEvent } from '../publisher/prepare.ts';
import { type Publisher, type PublishResult, publisherLimits, sendPrepared } from '../publisher/publisher.ts';
import type { Database, Queryable } from './database.ts';
import { migrateOutbox } from './migrations.ts';

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  db: Database;
  // biome-ignore lint/suspicious/noExplicitAny: the relay sends events of any catalog.
  publisher: Publisher<any>;
  /** Rows per round, at most. Default 500. */
  batchSize?: number;
  /** Bytes per round, at most (at least one row goes). Default: the publisher's `maxBatchBytes`, so a round is one request. */
  maxBatchBytes?: number;
  /** How often an idle relay looks for new rows; `wake()` looks at once. Default 200 ms. */
  pollIntervalMs?: number;
  /** Waits after a failed round. Default 200 ms doubling to 30 s, ±20 %. */
  backoff?: BackoffOptions;
  /** How long sent rows are kept (for audits and re-sends by hand). Default 7 days. */
  retainSentMs?: number;
  /** Longest a relay query may run on PostgreSQL (`statement_timeout` of its session). Default 30 s. */
  statementTimeoutMs?: number;
  logger?: Logger;
  /**
   * Crash-test hook: runs after Kafka acknowledged a round and before its rows are marked sent,
   * the one moment a crash causes a re-send.
   */
  afterSend?: (ids: string[]) => void | Promise<void>;
}

/** How far behind the relay is. */
export interface OutboxBacklog {
  pending: number;
  /** Age of the oldest pending row; 0 when none. */
  oldestAgeMs: number;
}

/** Publishes stored events in order, marks them sent, and picks up where it stopped after a crash. */
export interface OutboxRelay {
  /** Migrates, then relays in the background until `stop`. */
  start(): Promise<void>;
  /** Finishes the round in progress and stops. */
  stop(): Promise<void>;
  /** One round by hand (no leadership needed: for tests and tools); returns how many events were sent. */
  runOnce(): Promise<number>;
  /** Looks for new rows now instead of at the next poll: call it after a commit that added events. */
  wake(): void;
  /** Rows not marked sent yet; a row sent in the last 50 ms may still count (it is marked with the next read). */
  backlog(): Promise<OutboxBacklog>;
}

/**
 * Arbitrary, fixed: with the outbox's schema, the session lock held by the one relay that may
 * send that outbox. Per schema, not per database: services sharing one PostgreSQL, each with its
 * own schema, each have a relay of their own sending.
 */
const RELAY_LOCK = 4_242_002;
/**
 * PGlite has one connection, on which session locks are re-entrant: relays sharing one PGlite
 * take turns here instead. (A PGlite data directory belongs to one process anyway.)
 */
const pgliteLeaders = new WeakSet<Database>();
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, multiplier: 2, maxMs: 30_000, jitter: 0.2 };
const CLEANUP_EVERY_MS = 60_000;

interface Row {
  seq: number | string;
  event_id: string;
  topic: string;
  key: string;
  event_type: string;
  event_version: number;
  headers: Record<string, string>;
  body: Uint8Array;
  event_time: Date;
}

const COLUMNS = 'seq, event_id, topic, key, event_type, event_version, headers, body, event_time';
const SELECT_PENDING = `SELECT ${COLUMNS} FROM junction_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1`;

/** Marks a round's rows sent, found by their key (the primary key's index), with where each went. */
const MARK_SENT = `UPDATE junction_outbox SET sent_at = now(), attempts = attempts + 1,
    sent_partition = ($2::integer[])[array_position($1::bigint[], seq)],
    sent_offset = ($3::bigint[])[array_position($1::bigint[], seq)]
  WHERE seq = ANY($1::bigint[])`;

/**
 * The last round's rows marked sent and the next round's read, in one round trip. The read sees
 * the table as it was before the mark, so it leaves those rows out by their key.
 */
const MARK_AND_SELECT = `WITH marked AS (${MARK_SENT})
  SELECT ${COLUMNS} FROM junction_outbox WHERE sent_at IS NULL AND seq <> ALL($1::bigint[]) ORDER BY seq LIMIT $4`;

/** How long sent rows may wait to be marked with the next round's read before they are marked alone. */
const MARK_DELAY_MS = 50;

/** Rows Kafka took and the outbox does not show as sent yet, with where each went. */
interface Unmarked {
  seqs: string[];
  partitions: number[];
  offsets: string[];
}

function toPrepared(row: Row): PreparedEvent {
  return {
    id: row.event_id,
    type: row.event_type,
    version: Number(row.event_version),
    topic: row.topic,
    subject: subjectName(row.topic, row.event_type),
    key: row.key,
    body: Buffer.from(row.body),
    headers: row.headers,
    timestamp: new Date(row.event_time).getTime(),
  };
}

/** Creates an {@link OutboxRelay}. Several may run against one database: one sends, the others stand by. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, publisher } = options;
  const batchSize = options.batchSize ?? 500;
  const limits = publisherLimits(publisher);
  // A round must fit the publisher's in-flight budget, or it could never be admitted.
  const maxBatchBytes = Math.min(options.maxBatchBytes ?? limits.maxBatchBytes, limits.maxInFlightBytes);
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const retainSentMs = options.retainSentMs ?? 7 * 86_400_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;

  let running: Promise<void> | undefined;
  let stopping = false;
  let wakeUp: (() => void) | undefined;
  // Set by wake() during a round, so that the relay looks again at once instead of sleeping.
  let woken = false;
  let lastCleanup = 0;

  /** Waits `ms`, or less when woken (then resolves true) or stopped. */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (woken || stopping) {
        woken = false;
        resolve(true);
        return;
      }
      const timer = setTimeout(() => done(false), ms);
      function done(early: boolean) {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve(early);
      }
      wakeUp = () => done(true);
    });

  // Sent, not marked yet: the next round's read marks them, or markSent within MARK_DELAY_MS. A
  // crash before then sends them again (with the same ce_id), as a crash between send and mark always could.
  let unmarked: Unmarked = { seqs: [], partitions: [], offsets: [] };
  const markSent = async (conn: Queryable): Promise<void> => {
    if (!unmarked.seqs.length) return;
    await conn.query(MARK_SENT, [unmarked.seqs, unmarked.partitions, unmarked.offsets]);
    unmarked = { seqs: [], partitions: [], offsets: [] };
  };

  /**
   * One round on `conn`: read pending rows in order, send them as one unit, mark them sent.
   * `more`: rows were left for the next round (the batch was full, in rows or bytes).
   */
  const round = async (conn: Queryable): Promise<{ sent: number; more: boolean }> => {
    const marking = unmarked;
    const { rows } = (
      marking.seqs.length
        ? await conn.query(MARK_AND_SELECT, [marking.seqs, marking.partitions, marking.offsets, batchSize])
        : await conn.query(SELECT_PENDING, [batchSize])
    ) as { rows: Row[] };
    if (marking.seqs.length) unmarked = { seqs: [], partitions: [], offsets: [] };
    const events: PreparedEvent[] = [];
    let bytes = 0;
    for (const row of rows) {
      const event = toPrepared(row);
      bytes += eventBytes(event);
      if (events.length && bytes > maxBatchBytes) break;
      events.push(event);
    }
    if (!events.length) return { sent: 0, more: false };
    const seqs = rows.slice(0, events.length).map((row) => String(row.seq));
    let results: PublishResult[];
    try {
      // All or nothing: if any event of the round fails, the whole round is tried again, in the
      // same order. Events Kafka did take are sent again then, with the same ce_id, and never
      // overtaken by a later event of their key.
      results = await sendPrepared(publisher, events);
    } catch (error) {
      await conn
        .query('UPDATE junction_outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])', [
          seqs,
          String((error as Error).message).slice(0, 2000),
        ])
        .catch(() => {});
      throw error;
    }
    await options.afterSend?.(events.map((event) => event.id));
    unmarked = {
      seqs: [...unmarked.seqs, ...seqs],
      partitions: [...unmarked.partitions, ...results.map((r) => r.partition)],
      offsets: [...unmarked.offsets, ...results.map((r) => r.offset)],
    };
    if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
      lastCleanup = Date.now();
      // In chunks, so that a large backlog of sent rows never runs into the statement timeout.
      await conn.query(
        'DELETE FROM junction_outbox WHERE seq IN (SELECT seq FROM junction_outbox WHERE sent_at < $1 ORDER BY seq LIMIT 10000)',
        [new Date(Date.now() - retainSentMs)],
      );
    }
    return { sent: events.length, more: events.length < rows.length || rows.length === batchSize };
  };

  const report = (error: unknown, attempt: number, delayMs: number) => {
    const failure = JunctionError.from(error);
    options.logger?.warn('outbox relay round failed; retrying', { code: failure.code, error: failure.message, attempt, delayMs });
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping) {
      let session: (Queryable & { release(): void }) | undefined;
      try {
        session = await db.session();
        const leader =
          db.kind === 'pglite'
            ? !pgliteLeaders.has(db) && Boolean(pgliteLeaders.add(db))
            : (
                (await session.query('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS leader', [RELAY_LOCK])).rows[0] as {
                  leader: boolean;
                }
              ).leader;
        if (!leader) {
          // Another relay sends; stand by and ask again later.
          session.release();
          session = undefined;
          await sleep(Math.max(pollIntervalMs, 1000));
          continue;
        }
        // Every call has a timeout. PGlite shares its one connection with the application, so the
        // setting is the session's only on PostgreSQL, where the connection is the relay's own.
        if (db.kind === 'postgres') {
          await session.query(`SET statement_timeout = ${Math.round(statementTimeoutMs)}`);
          // Planned for each round's arrays and the table as it is now. A plan cached while the
          // table was empty (a fresh service, before autovacuum's first ANALYZE, up to a minute)
          // read the whole table on every round: 1.5 ms a round after a few thousand events.
          await session.query('SET plan_cache_mode = force_custom_plan');
        }
        while (!stopping) {
          const { more } = await round(session);
          failures = 0;
          if (more) continue;
          // A round that took every pending row sleeps: rows committed since its read woke the
          // relay (sleep returns at once then), so looking again would only find nothing. Its
          // rows are marked with the next read when that comes soon, else alone.
          if (unmarked.seqs.length) {
            if (await sleep(MARK_DELAY_MS)) continue;
            await markSent(session);
          }
          await sleep(pollIntervalMs);
        }
      } catch (error) {
        const delay = backoffDelay(failures, backoff);
        failures += 1;
        report(error, failures, delay);
        await sleep(delay);
      } finally {
        if (session) {
          // Marked now, or sent again by whoever relays next.
          await markSent(session).catch(() => {});
          if (db.kind === 'postgres') {
            await session.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [RELAY_LOCK]).catch(() => {});
            await session.query('RESET statement_timeout').catch(() => {});
            await session.query('RESET plan_cache_mode').catch(() => {});
          } else pgliteLeaders.delete(db);
          session.release();
        }
      }
    }
  };

  let unregister: (() => void) | undefined;
  const relay: OutboxRelay = {
    async start() {
      if (running) return;
      await migrateOutbox(db);
      stopping = false;
      running = loop();
      unregister = registerProbe(probes.outboxes, relay);
    },
    async stop() {
      unregister?.();
      stopping = true;
      wakeUp?.();
      await running;
      running = undefined;
    },
    async runOnce() {
      await migrateOutbox(db);
      const { sent } = await round(db);
      await markSent(db);
      return sent;
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async backlog() {
      const { rows } = await db.query(
        `SELECT count(*) AS pending, COALESCE(EXTRACT(EPOCH FROM (now() - min(created_at))) * 1000, 0) AS oldest
         FROM junction_outbox WHERE sent_at IS NULL`,
      );
      const row = rows[0] as { pending: number | string; oldest: number | string };
      return { pending: Number(row.pending), oldestAgeMs: Math.max(0, Math.round(Number(row.oldest))) };
    },
  };
  return relay;
}
