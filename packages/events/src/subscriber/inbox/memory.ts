import type { InboxKey, InboxStore } from './store.ts';
import { inProgress } from './store.ts';

/** Options of {@link memoryInbox}. */
export interface MemoryInboxOptions {
  /** Remembered events at most; past it the oldest go first, a tenth of this at once. Default 10,000. */
  maxEntries?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** The expiry of an event whose first copy is running: not yet processed, not to be run twice. */
const RUNNING = -1;

/**
 * An inbox in this process's memory, FOR TESTS ONLY: it is not shared between processes or
 * replicas, and forgets everything on restart, so in production it dedupes nothing that
 * matters. Bounded by `maxEntries` and each entry's TTL.
 */
export function memoryInbox(options: MemoryInboxOptions = {}): InboxStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  /**
   * Per group, event id → when it expires (RUNNING while its first copy runs). A map per group,
   * not one keyed by group and id: the id is looked up as it came, with no key built per record.
   * Insertion order is age order: an event processed again is re-inserted, so the oldest come first.
   */
  const groups = new Map<string, Map<string, number>>();
  let entries = 0;
  let prunedAt = Number.NEGATIVE_INFINITY;

  /** Drops expired entries of `seen` from its oldest on, and the oldest until at most `keep` remain; running ones stay. */
  const pruneGroup = (seen: Map<string, number>, at: number, keep: number) => {
    for (const [id, expiresAt] of seen) {
      if (expiresAt === RUNNING) continue;
      if (expiresAt > at && entries <= keep) break;
      seen.delete(id);
      entries -= 1;
    }
  };
  /**
   * Past `maxEntries` the oldest go, a tenth of the bound at once (of the group just written
   * first, then other groups'); expired entries go once a second: an expired entry still held
   * answers nothing (its time is checked on every lookup), it only holds memory. A tenth at once,
   * not one per event: a map walks over the places of its deleted entries from its start until it
   * next grows, so evicting one entry per event walked them all for every event (50× slower at the bound).
   */
  const prune = (written: Map<string, number>, at: number) => {
    const full = entries > maxEntries;
    if (!full && at - prunedAt < 1000) return;
    prunedAt = at;
    const keep = full ? maxEntries - Math.ceil(maxEntries / 10) : maxEntries;
    pruneGroup(written, at, keep);
    for (const seen of groups.values()) if (seen !== written) pruneGroup(seen, at, keep);
  };

  /** Claims `eventId` for its first copy; the verdict when it may not run now. */
  const claim = (seen: Map<string, number>, key: InboxKey): 'duplicate' | undefined => {
    const { eventId } = key;
    const expiresAt = seen.get(eventId);
    if (expiresAt === RUNNING) throw inProgress(key, 'memory');
    if (expiresAt !== undefined) {
      if (expiresAt > now()) return 'duplicate';
      seen.delete(eventId);
      entries -= 1;
    }
    seen.set(eventId, RUNNING);
    entries += 1;
    return undefined;
  };
  const release = (seen: Map<string, number>, eventId: string) => {
    seen.delete(eventId);
    entries -= 1;
  };
  const processed = (seen: Map<string, number>, key: InboxKey) => {
    const done = now();
    seen.set(key.eventId, done + key.ttlMs);
    prune(seen, done);
  };
  const groupOf = (group: string): Map<string, number> => {
    let seen = groups.get(group);
    if (!seen) {
      seen = new Map();
      groups.set(group, seen);
    }
    return seen;
  };

  return {
    // Small on purpose: an async function's frame is as large as all its locals, and this runs per record.
    async run(key: InboxKey, work) {
      const seen = groupOf(key.group);
      if (claim(seen, key) === 'duplicate') return 'duplicate';
      try {
        await work(undefined);
      } catch (error) {
        release(seen, key.eventId);
        throw error;
      }
      processed(seen, key);
      return 'processed';
    },
    async close() {},
  };
}
