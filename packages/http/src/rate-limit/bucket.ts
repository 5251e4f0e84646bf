/** A token bucket's shape: `capacity` tokens at most (the burst), refilled at `refillPerSecond`. */
export interface BucketPolicy {
  capacity: number;
  refillPerSecond: number;
}

/** A bucket's state: tokens left (fractional) at a moment in milliseconds. */
export interface BucketState {
  tokens: number;
  at: number;
}

/** What taking from a bucket decided. */
export interface Verdict {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
  /** When refused, milliseconds until one token is back; 0 when allowed. */
  retryAfterMs: number;
}

/**
 * Takes `cost` tokens from a bucket as it stands at `now`, refilling for the time passed since its
 * last state. Pure, so the memory store and the Redis script (which mirrors it in Lua) agree.
 */
export function take(
  policy: BucketPolicy,
  state: BucketState | undefined,
  now: number,
  cost = 1,
): { state: BucketState; verdict: Verdict } {
  const { capacity, refillPerSecond } = policy;
  const elapsed = state ? Math.max(0, now - state.at) : 0;
  const before = state ? Math.min(capacity, state.tokens + (elapsed * refillPerSecond) / 1000) : capacity;
  const allowed = before >= cost;
  const tokens = allowed ? before - cost : before;
  const perTokenMs = 1000 / refillPerSecond;
  return {
    state: { tokens, at: now },
    verdict: {
      allowed,
      remaining: Math.floor(tokens),
      resetMs: Math.ceil((capacity - tokens) * perTokenMs),
      retryAfterMs: allowed ? 0 : Math.ceil((cost - tokens) * perTokenMs),
    },
  };
}
