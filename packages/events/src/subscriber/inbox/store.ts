import { JunctionError } from '@junction/observability';
import type { Queryable } from '../../outbox/database.ts';

/** What the idempotency middleware asks a store about one record. */
export interface InboxKey {
  /** The consumer group: each group processes an event once, independently of the others. */
  group: string;
  /** The event's `ce_id`. */
  eventId: string;
  /** How long the event is remembered once processed. */
  ttlMs: number;
  /**
   * A database store takes this transaction lock before it claims the event: the handlers of
   * events with the same lock take turns, in any process, and each sees what the last one
   * committed. Other stores, which give no transaction, ignore it.
   */
  lock?: string;
}

/** `processed`: the work ran and succeeded now; `duplicate`: it had already, and did not run. */
export type InboxVerdict = 'processed' | 'duplicate';

/**
 * Remembers which events a group has processed. `run` calls `work` unless the event was
 * processed within its TTL; when `work` throws, the event is not remembered (a retry may
 * process it) and the error passes through unchanged. A store that is a database hands `work`
 * its transaction, which commits together with the inbox row; others pass undefined. Failures
 * of the store itself are retriable `inbox.unavailable` errors, as is a duplicate that arrives
 * while the first copy is still being processed (its verdict is not known yet).
 */
export interface InboxStore {
  run(key: InboxKey, work: (tx: Queryable | undefined) => Promise<void>): Promise<InboxVerdict>;
  /** Releases what the store opened itself (a Redis connection); never what it was given. */
  close(): Promise<void>;
}

/** The retriable error for a duplicate whose first copy is still in progress. */
export function inProgress(key: InboxKey, store: string): JunctionError {
  return new JunctionError('inbox.unavailable', `event ${key.eventId} of group ${key.group} is being processed already`, {
    context: { group: key.group, eventId: key.eventId, store, inProgress: true },
  });
}
