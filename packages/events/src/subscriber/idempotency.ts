import { JunctionError } from '@junction/observability';
import type { InboxKey, InboxStore, InboxVerdict } from './inbox/store.ts';
import type { EventContext, Middleware } from './types.ts';

/** Options of {@link idempotency}. */
export interface IdempotencyOptions {
  store: InboxStore;
  /** How long a processed event is remembered; duplicates arriving later run again. */
  ttlMs: number;
  /**
   * Handlers of one record key take turns across topics and processes: the store takes a
   * transaction lock on the group and the key before it claims the event (database stores). For
   * a group whose events about one thing (an order) come from several topics.
   */
  lockKey?: boolean;
  /** Told what became of each record that had an event id (metrics subscribe here). */
  onOutcome?: (outcome: InboxVerdict, ctx: EventContext) => void;
}

/** The event id: the decoded event's, else the `ce_id` header; undefined when the record has neither. */
function eventIdOf(ctx: EventContext): string | undefined {
  return ctx.event?.id || ctx.record.headers.ce_id || undefined;
}

/**
 * Processes each event once per group: a duplicate (same `ce_id`, within `ttlMs`) is skipped
 * with `ctx.outcome = 'deduplicated'` and the handler is not called. It runs before decode,
 * so it reads the `ce_id` header when no event is decoded yet; a record without an id passes
 * through. With a database store the handler gets `ctx.tx`, the transaction that also holds
 * the inbox row: writes made through it happen exactly once. With other stores, dedupe only
 * narrows redelivery (at least once), since it cannot commit with the handler's effects.
 */
export function idempotency(options: IdempotencyOptions): Middleware {
  if (!(options.ttlMs > 0)) throw new JunctionError('config.invalid', `idempotency: ttlMs must be positive, got ${options.ttlMs}`);
  const { store, ttlMs } = options;
  return (next) => async (ctx) => {
    const eventId = eventIdOf(ctx);
    if (eventId === undefined) return next(ctx);
    const outer = ctx.tx;
    const key = ctx.record.key;
    const inboxKey: InboxKey =
      options.lockKey && key !== null
        ? { group: ctx.group, eventId, ttlMs, lock: `${ctx.group}/${key}` }
        : { group: ctx.group, eventId, ttlMs };
    const verdict = await store.run(inboxKey, async (tx) => {
      if (tx) ctx.tx = tx;
      try {
        await next(ctx);
      } finally {
        // The transaction ends with this call; nothing outside may use it afterwards.
        ctx.tx = outer;
      }
    });
    if (verdict === 'duplicate') ctx.outcome = 'deduplicated';
    options.onOutcome?.(verdict, ctx);
  };
}
