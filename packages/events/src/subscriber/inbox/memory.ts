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
  /** Insertion order is age order: a processed event is re-inserted, so the oldest come first. */
  const seen = new Map<string, { expiresAt: number }>();
  const pending = new Set<string>();

  const prune = (at: number) => {
    for (const [key, entry] of seen) {
      if (entry.expiresAt > at && seen.size <= maxEntries) break;
      seen.delete(key);
    }
  };

  return {
    async run(key: InboxKey, work) {
      const id = `${key.group}\u0000${key.eventId}`;
      const at = now();
      prune(at);
      const entry = seen.get(id);
      if (entry && entry.expiresAt > at) return 'duplicate';
      if (pending.has(id)) throw inProgress(key, 'memory');
      pending.add(id);
      try {
        await work(undefined);
      } finally {
        pending.delete(id);
      }
      seen.delete(id);
      seen.set(id, { expiresAt: now() + key.ttlMs });
      prune(now());
      return 'processed';
    },
    async close() {},
  };
}
