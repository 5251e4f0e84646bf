import { describe, expect, it } from 'vitest';
import { retrying } from './backoff.ts';

describe('retrying', () => {
  const fast = { initialMs: 1, multiplier: 2, maxMs: 5, jitter: 0 };

  it('retries retriable failures until one succeeds', async () => {
    let calls = 0;
    const result = await retrying(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('flaky');
        return 'done';
      },
      { ...fast, retries: 5, retriable: () => true },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('stops at the bound and throws the last failure', async () => {
    let calls = 0;
    const failing = retrying(
      async () => {
        calls += 1;
        throw new Error(`failure ${calls}`);
      },
      { ...fast, retries: 2, retriable: () => true },
    );
    await expect(failing).rejects.toThrow('failure 3');
    expect(calls).toBe(3);
  });

  it('does not retry what is not retriable', async () => {
    let calls = 0;
    const failing = retrying(
      async () => {
        calls += 1;
        throw new Error('fatal');
      },
      { ...fast, retries: 5, retriable: () => false },
    );
    await expect(failing).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });
});
