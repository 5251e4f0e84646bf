import type { BucketPolicy, Verdict } from './bucket.ts';

/**
 * Where buckets live. The memory store counts per process; the Redis store counts across every
 * replica that shares the Redis.
 */
export interface RateLimitStore {
  /** Takes `cost` tokens from the bucket `key`. */
  take(key: string, policy: BucketPolicy, cost?: number): Promise<Verdict>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
