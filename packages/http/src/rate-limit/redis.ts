import { JunctionError } from '@junction/observability';
import type { Redis } from 'ioredis';
import type { LogSink } from '../log.ts';
import { redisClient } from '../redis.ts';
import type { BucketPolicy, Verdict } from './bucket.ts';
import { memoryRateLimitStore } from './memory.ts';
import type { RateLimitStore } from './store.ts';

/** Options of {@link redisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** `redis://host:port[/db]`, or a client to use (not closed by the store). */
  redis: string | Redis;
  /** Key prefix, so several limiters share one Redis. Default `junction:ratelimit:`. */
  prefix?: string;
  /** Milliseconds one Redis call may take before the local fallback answers. Default 200. */
  timeoutMs?: number;
  /** Told (at most once a minute) when Redis fails and the fallback counts. */
  logger?: LogSink<'warn'>;
}

/**
 * The bucket of `bucket.ts`, in Lua, run atomically in Redis with Redis's own clock, so replicas
 * with drifting clocks still share one bucket. KEYS[1] bucket; ARGV capacity, refill/s, cost.
 * Returns allowed (0/1), tokens left ×1000, and the refill per token in ms ×1000.
 */
const TAKE = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if state[1] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(capacity, tonumber(state[1]) + elapsed * rate / 1000)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return { allowed, math.floor(tokens * 1000) }
`;

/**
 * Buckets in Redis, shared by every replica. When Redis is slow or away, this replica counts in
 * its own memory meanwhile (logged once a minute): limits loosen to one bucket per replica
 * rather than the gateway refusing, or waving through, everything.
 */
export function redisRateLimitStore(options: RedisRateLimitStoreOptions): RateLimitStore {
  const timeoutMs = options.timeoutMs ?? 200;
  if (!(timeoutMs > 0)) throw new JunctionError('config.invalid', 'redisRateLimitStore: timeoutMs must be positive');
  const prefix = options.prefix ?? 'junction:ratelimit:';
  const owned = typeof options.redis === 'string';
  // A lost connection fails the command, and the fallback covers it.
  const redis = typeof options.redis === 'string' ? redisClient(options.redis, { timeoutMs }) : options.redis;
  const fallback = memoryRateLimitStore();
  let warnedAt = 0;

  return {
    async take(key: string, policy: BucketPolicy, cost = 1): Promise<Verdict> {
      try {
        const [allowed, milliTokens] = (await redis.eval(TAKE, 1, `${prefix}${key}`, policy.capacity, policy.refillPerSecond, cost)) as [
          number,
          number,
        ];
        const tokens = milliTokens / 1000;
        const perTokenMs = 1000 / policy.refillPerSecond;
        return {
          allowed: allowed === 1,
          remaining: Math.floor(tokens),
          resetMs: Math.ceil((policy.capacity - tokens) * perTokenMs),
          retryAfterMs: allowed === 1 ? 0 : Math.ceil((cost - tokens) * perTokenMs),
        };
      } catch (error) {
        if (Date.now() - warnedAt > 60_000) {
          warnedAt = Date.now();
          options.logger?.warn('rate limits counted in this replica alone: Redis does not answer', { err: error });
        }
        return fallback.takeNow(key, policy, cost);
      }
    },
    async close() {
      await fallback.close();
      if (owned) redis.disconnect();
    },
  };
}
