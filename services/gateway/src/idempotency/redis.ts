import { redisClient } from '@junction/http';
import { JunctionError } from '@junction/observability';
import type { Redis } from 'ioredis';
import type { Claim, IdempotencyStore, IdempotencyTimes, StoredResponse } from './store.ts';

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyOptions extends IdempotencyTimes {
  redis: string | Redis;
  /** Default `junction:idempotency:`. */
  prefix?: string;
  /** Milliseconds one Redis call may take. Default 1000. */
  timeoutMs?: number;
}

/**
 * `decideClaim` of store.ts, atomic in Redis (a hash per key, Redis's clock). KEYS[1] key;
 * ARGV fingerprint, event id, lease ms, retention ms. Returns the kind and the event id or the
 * stored response.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local found = redis.call('HMGET', KEYS[1], 'fingerprint', 'eventId', 'state', 'leaseUntil', 'response')
if not found[1] then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'eventId', ARGV[2], 'state', 'pending', 'leaseUntil', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return { 'claimed', ARGV[2] }
end
if found[1] ~= ARGV[1] then return { 'conflict' } end
if found[3] == 'done' then return { 'replay', found[5] } end
if found[3] == 'pending' and tonumber(found[4]) > now then return { 'in-progress' } end
redis.call('HSET', KEYS[1], 'state', 'pending', 'leaseUntil', now + tonumber(ARGV[3]))
return { 'claimed', found[2] }
`;

/** Sets the state (and the response) of a key that exists; a release only moves a pending key. */
const FINISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'released' and redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'response', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Keys in Redis, shared by every replica; claims are atomic (a Lua script), so two replicas
 * serving the same key at once cannot both win. Redis being away is a retriable 503
 * (`inbox.unavailable`): publishing without the key's protection could publish twice.
 */
export function redisIdempotencyStore(options: RedisIdempotencyOptions): IdempotencyStore {
  const retentionMs = options.retentionMs ?? 24 * 3600_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const prefix = options.prefix ?? 'junction:idempotency:';
  const owned = typeof options.redis === 'string';
  const redis =
    typeof options.redis === 'string'
      ? redisClient(options.redis, { timeoutMs: options.timeoutMs ?? 1000, retriesPerCommand: 1 })
      : options.redis;

  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw new JunctionError('inbox.unavailable', 'the idempotency store (Redis) does not answer; retry with the same Idempotency-Key', {
        cause: error,
      });
    }
  };
  const finish = (key: string, state: 'done' | 'released', response?: StoredResponse) =>
    guarded(() => redis.eval(FINISH, 1, prefix + key, state, response ? JSON.stringify(response) : '', retentionMs)).then(() => {});

  return {
    async claim(key, fingerprint, eventId): Promise<Claim> {
      const [kind, value] = (await guarded(() => redis.eval(CLAIM, 1, prefix + key, fingerprint, eventId, leaseMs, retentionMs))) as [
        string,
        string | undefined,
      ];
      if (kind === 'claimed') return { kind, eventId: value as string };
      if (kind === 'replay') return { kind, response: JSON.parse(value as string) as StoredResponse };
      return { kind: kind as 'conflict' | 'in-progress' };
    },
    complete: (key, response) => finish(key, 'done', response),
    release: (key) => finish(key, 'released'),
    forget: (key) => guarded(() => redis.del(prefix + key)).then(() => {}),
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
