import { JunctionError } from '@junction/observability';
import pg from 'pg';
import type { Catalog } from '../contracts/catalog.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';
import { eventBytes, type PublishOptions, prepareEvent } from '../publisher/prepare.ts';
import type { Queryable } from './database.ts';

const { escapeLiteral } = pg;

/** An event to store: its type (record fullname), its data and the usual publish options. */
export interface OutboxEvent<Events = Record<string, Record<string, unknown>>, T extends keyof Events & string = keyof Events & string> {
  type: T;
  data: Events[T];
  options?: PublishOptions;
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** The writing service: `ce_source` is `/junction/<service>`. */
  service: string;
  catalog: Catalog;
  /** Largest event accepted; keep it at or under the publisher's `maxEventBytes`. Default 1,000,000 bytes. */
  maxEventBytes?: number;
  /**
   * The keys that encrypt `junction.pii` fields before the event is stored: PII is encrypted at
   * rest in the table as it will be on the topic. Default: the environment's; `false`: none.
   */
  pii?: PiiKeyring | false;
}

/** Stores events in the caller's transaction, for the relay to publish after commit. */
export interface Outbox<Events = Record<string, Record<string, unknown>>> {
  /**
   * Validates `event` (nothing is stored when it is invalid: `event.invalid` with each field
   * path) and inserts it with `tx`, the caller's transaction. Returns its `ce_id`. When `tx`
   * can defer a write to its commit (a transaction on PostgreSQL), the insert goes with the
   * COMMIT, in the same round trip; otherwise it runs now.
   *
   * Holds a transaction-scoped lock on the event's key until the caller commits. A transaction
   * that adds events for several keys should add them in a stable order (sorted keys), as with
   * row locks: two transactions taking the same keys in opposite orders deadlock, and PostgreSQL
   * aborts one of them.
   */
  add(tx: Queryable, event: OutboxEvent<Events>): Promise<{ id: string }>;
}

/**
 * One statement, one round trip (or none of its own, with the commit). Two transactions adding
 * events for one key queue on the lock until the first commits, so the order of `seq` within a key
 * is the order of commit: the relay never sees a later event of a key while an earlier one is
 * still invisible. The row is built from the lock's result, so PostgreSQL takes the lock before it
 * draws the `seq`.
 */
const insertEvent = (id: string, topic: string, key: string, type: string, version: string, headers: string, body: string, time: string) =>
  `WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended(${topic}::text || '/' || ${key}::text, 0)))
  INSERT INTO junction_outbox (event_id, topic, key, event_type, event_version, headers, body, event_time)
  SELECT ${id}::uuid, ${topic}::text, ${key}::text, ${type}::text, ${version}::integer, ${headers}::jsonb, ${body}::bytea, ${time}::timestamptz FROM locked`;

/** The insert with parameters. */
const INSERT_EVENT = insertEvent('$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8');

/** The row of one event, as the insert takes it. */
interface EventRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  version: number;
  headers: string;
  body: Buffer;
  time: Date;
}

/** The insert with the row's values written in as escaped literals, for a transaction's commit to carry. */
function insertLiteral(row: EventRow): string {
  const version = Number(row.version);
  if (!Number.isInteger(version)) throw new JunctionError('event.invalid', `event version ${row.version} is not an integer`);
  return insertEvent(
    escapeLiteral(row.id),
    escapeLiteral(row.topic),
    escapeLiteral(row.key),
    escapeLiteral(row.type),
    String(version),
    escapeLiteral(row.headers),
    escapeLiteral(`\\x${row.body.toString('hex')}`),
    escapeLiteral(row.time.toISOString()),
  );
}

/** Creates an {@link Outbox}; the table comes from `migrateOutbox` (the relay runs it on start). */
export function createOutbox<Events = Record<string, Record<string, unknown>>>(options: OutboxOptions): Outbox<Events> {
  const source = `/junction/${options.service}`;
  const maxEventBytes = options.maxEventBytes ?? 1_000_000;
  const pii = options.pii === undefined ? piiKeyringFromEnv() : options.pii || undefined;
  return {
    async add(tx, event) {
      // Everything about the event is fixed now — id, time, headers, bytes — so that a re-send
      // after a crash is the very same event, with the same ce_id.
      const prepared = prepareEvent(options.catalog, source, event, pii);
      const bytes = eventBytes(prepared);
      if (bytes > maxEventBytes) {
        // Stored, it could never be sent, and it would hold up every event behind it.
        throw new JunctionError('event.invalid', `${prepared.type} is ${bytes} bytes, more than ${maxEventBytes} (maxEventBytes)`, {
          context: { type: prepared.type, bytes, maxEventBytes },
        });
      }
      const row: EventRow = {
        id: prepared.id,
        topic: prepared.topic,
        key: prepared.key,
        type: prepared.type,
        version: prepared.version,
        headers: JSON.stringify(prepared.headers),
        body: prepared.body,
        time: new Date(prepared.timestamp),
      };
      // Nobody reads the row before the commit: where the transaction can, it goes with the
      // COMMIT, a round trip less, and the key's lock is held only from there to the commit.
      if (tx.defer) tx.defer(insertLiteral(row));
      else await tx.query(INSERT_EVENT, [row.id, row.topic, row.key, row.type, row.version, row.headers, row.body, row.time]);
      return { id: prepared.id };
    },
  };
}
