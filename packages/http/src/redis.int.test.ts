import { describe, expect, it } from 'vitest';
import { redisClient } from './redis.ts';

describe('redisClient', () => {
  it('answers through the stack Redis', async () => {
    const url =
      process.env.JUNCTION_REDIS_URL ?? expect.unreachable('JUNCTION_REDIS_URL is not set: the test stack should have started Redis');
    const redis = redisClient(url, { timeoutMs: 1000 });
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();
  });

  it('fails a command within its timeout when Redis is away, without an unhandled error event', async () => {
    const redis = redisClient('redis://127.0.0.1:9', { timeoutMs: 150 });
    const started = performance.now();
    await expect(redis.ping()).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2500);
    redis.disconnect();
  });
});
