import { JunctionError } from '@junction/observability';
import type { Catalog } from '../contracts/catalog.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';
import { eventBytes, type PublishOptions, prepareEvent } from '../publisher/prepare.ts';
import type { Queryable } from './database.ts';

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
   * path) and inserts it with `tx`, the caller's transaction. Returns its `ce_id`.
   *
   * Holds a transaction-scoped lock on the event's key until the caller commits. A transaction
   * that adds events for several keys should add them in a stable order (sorted keys), as with
   * row locks: two transactions taking the same keys in opposite orders deadlock, and PostgreSQL
   * aborts one of them.
   */
  add(tx: Queryable, event: OutboxEvent<Events>): Promise<{ id: string }>;
}

/**
 * One statement, one round trip. Two transactions adding events for one key queue on the lock
 * until the first commits, so the order of `seq` within a key is the order of commit: the relay
 * never sees a later event of a key while an earlier one is still invisible. The row is built from
 * the lock's result, so PostgreSQL takes the lock before it draws the `seq`.
 */
const INSERT_EVENT = `WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended($2::text || '/' || $3::text, 0)))
  INSERT INTO junction_outbox (event_id, topic, key, event_type, event_version, headers, body, event_time)
  SELECT $1::uuid, $2::text, $3::text, $4::text, $5::integer, $6::jsonb, $7::bytea, $8::timestamptz FROM locked`;

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
      await tx.query(INSERT_EVENT, [
        prepared.id,
        prepared.topic,
        prepared.key,
        prepared.type,
        prepared.version,
        JSON.stringify(prepared.headers),
        prepared.body,
        new Date(prepared.timestamp),
      ]);
      return { id: prepared.id };
    },
  };
}
