import type { InboxKey, InboxStore } from './store.ts';
import { inProgress } from './store.ts';

/** Options of {@link memoryInbox}. */
export interface MemoryInboxOptions {
  /** Remembered events at most; the oldest go first. Default 10,000. */
  maxEntries?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/**
 * An inbox in this process's memory, FOR TESTS ONLY: it is not shared between processes or
 * replicas, and forgets everything on restart, so in production it dedupes nothing that
 * matters. Bounded by `maxEntries` and each entry's TTL.
 */
export function memoryInbox(options: MemoryInboxOptions = {}): InboxStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  /** Key → when it expires. Insertion order is age order: a processed event is re-inserted, so the oldest come first. */
  const seen = new Map<string, number>();
  const pending = new Set<string>();
  let prunedAt = Number.NEGATIVE_INFINITY;

  /**
   * Drops the oldest entries past `maxEntries`, and expired ones once a second: an expired entry
   * still in the map answers nothing (its time is checked on every lookup), it only holds memory.
   */
  const prune = (at: number) => {
    if (seen.size <= maxEntries && at - prunedAt < 1000) return;
    prunedAt = at;
    for (const [key, expiresAt] of seen) {
      if (expiresAt > at && seen.size <= maxEntries) break;
      seen.delete(key);
    }
  };

  return {
    async run(key: InboxKey, work) {
      const id = `${key.group}\u0000${key.eventId}`;
      const at = now();
      const expiresAt = seen.get(id);
      if (expiresAt !== undefined && expiresAt > at) return 'duplicate';
      if (pending.has(id)) throw inProgress(key, 'memory');
      pending.add(id);
      try {
        await work(undefined);
      } finally {
        pending.delete(id);
      }
      if (expiresAt !== undefined) seen.delete(id);
      const done = now();
      seen.set(id, done + key.ttlMs);
      prune(done);
      return 'processed';
    },
    async close() {},
  };
}
