import { Redis } from 'ioredis';

/** Options of {@link redisClient}. */
export interface RedisClientOptions {
  /** Milliseconds one command may take before it fails. */
  timeoutMs: number;
  /** Times a command is resent after a lost connection; default 0 (the caller decides what a failure means). */
  retriesPerCommand?: number;
}

/**
 * An ioredis client for `redis://host:port[/db]` as the gateway's stores want it: a timeout on
 * every command, a 2 s connect timeout, reconnects with a backoff capped at 5 s, and connection
 * errors left to the commands that fail (each store says what it does then) instead of being
 * thrown as unhandled `error` events.
 */
export function redisClient(url: string, options: RedisClientOptions): Redis {
  const redis = new Redis(url, {
    commandTimeout: options.timeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: options.retriesPerCommand ?? 0,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  redis.on('error', () => {});
  return redis;
}
