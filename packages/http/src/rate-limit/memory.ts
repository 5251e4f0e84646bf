import { JunctionError } from '@junction/observability';
import { type BucketPolicy, type BucketState, take, type Verdict } from './bucket.ts';
import type { RateLimitStore } from './store.ts';

/** Options of {@link memoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Buckets kept at most; the least recently used go first (a full bucket forgets nothing). Default 100,000. */
  maxKeys?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** A synchronous in-memory store, for the Redis store's fallback. */
export interface MemoryRateLimitStore extends RateLimitStore {
  takeNow(key: string, policy: BucketPolicy, cost?: number): Verdict;
}

/**
 * Buckets in this process's memory: the default, and right for one replica. With several
 * replicas each counts alone, so a client gets the limit once per replica; share a Redis then.
 */
export function memoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): MemoryRateLimitStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new JunctionError('config.invalid', 'memoryRateLimitStore: maxKeys must be ≥ 1');
  const now = options.now ?? Date.now;
  const buckets = new Map<string, BucketState>();
  const takeNow = (key: string, policy: BucketPolicy, cost = 1): Verdict => {
    const result = take(policy, buckets.get(key), now(), cost);
    // Re-inserting keeps the map in least-recently-used order, so eviction takes the oldest.
    buckets.delete(key);
    buckets.set(key, result.state);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
    return result.verdict;
  };
  return {
    takeNow,
    take: async (key, policy, cost) => takeNow(key, policy, cost),
    close: async () => buckets.clear(),
  };
}
