import { decideClaim, type IdempotencyStore, type IdempotencyTimes, type KeyRecord } from './store.ts';

/** Options of {@link memoryIdempotencyStore}. */
export interface MemoryIdempotencyOptions extends IdempotencyTimes {
  /** Keys kept at most; the oldest go first. Default 100,000. */
  maxKeys?: number;
  now?: () => number;
}

/**
 * Keys in this process's memory: for one replica and tests. Not shared: with several replicas a
 * retry that lands on another one publishes again (under a new event id) — use Redis there.
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyOptions = {}): IdempotencyStore {
  const retentionMs = options.retentionMs ?? 24 * 3600_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  const records = new Map<string, KeyRecord & { expires: number }>();
  const live = (key: string) => {
    const record = records.get(key);
    if (record && record.expires <= now()) {
      records.delete(key);
      return undefined;
    }
    return record;
  };
  const keep = (key: string, record: KeyRecord) => {
    records.delete(key);
    records.set(key, { ...record, expires: now() + retentionMs });
    if (records.size > maxKeys) records.delete(records.keys().next().value as string);
  };
  return {
    async claim(key, fingerprint, eventId) {
      const decided = decideClaim(live(key), fingerprint, eventId, now(), leaseMs);
      if (decided.keep) keep(key, decided.keep);
      return decided.claim;
    },
    async complete(key, response) {
      const record = live(key);
      if (record) keep(key, { ...record, state: 'done', response });
    },
    async release(key) {
      const record = live(key);
      if (record && record.state === 'pending') keep(key, { ...record, state: 'released' });
    },
    async forget(key) {
      records.delete(key);
    },
    async close() {
      records.clear();
    },
  };
}
