import { getEventListeners } from 'node:events';
import { JunctionError } from '@junction/observability';
import { describe, expect, it, vi } from 'vitest';
import { type RetrySleep, retryInPlace } from './retry.ts';
import type { EventContext, Handler } from './types.ts';

function context(signal: AbortSignal = new AbortController().signal): EventContext {
  return {
    group: 'billing',
    record: { topic: 'orders.order', partition: 0, offset: '7', key: 'o-1', value: null, headers: {}, timestamp: 0 },
    attempt: 1,
    signal,
  };
}

const backoff = { initialMs: 1, multiplier: 2, maxMs: 4, jitter: 0.5 };
const unavailable = () => new JunctionError('broker.unavailable', 'down for a moment');

/** A handler that fails `failures` times with `error()`, recording the attempt it saw each time. */
function flaky(failures: number, error: () => unknown): Handler & { attempts: number[] } {
  const attempts: number[] = [];
  const handler = async (ctx: EventContext) => {
    attempts.push(ctx.attempt);
    if (attempts.length <= failures) throw error();
  };
  return Object.assign(handler, { attempts });
}

describe('retryInPlace', () => {
  it('retries retriable errors until the handler succeeds, counting attempts on the context', async () => {
    const handler = flaky(2, unavailable);
    const ctx = context();
    await retryInPlace({ retries: 3, backoff })(handler)(ctx);
    expect(handler.attempts).toEqual([1, 2, 3]);
    expect(ctx.attempt).toBe(3);
  });

  it('gives up after `retries`, passing the last error on with the attempts in its context', async () => {
    const handler = flaky(10, unavailable);
    const error = await retryInPlace({ retries: 2, backoff })(handler)(context()).catch((e: unknown) => e);
    expect(handler.attempts).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({ code: 'broker.unavailable', retriable: true, context: { attempts: 3 } });
  });

  it('does not retry a non-retriable JunctionError', async () => {
    const handler = flaky(10, () => new JunctionError('event.invalid', 'bad data', { context: { field: 'total' } }));
    const error = await retryInPlace({ retries: 5, backoff })(handler)(context()).catch((e: unknown) => e);
    expect(handler.attempts).toEqual([1]);
    expect(error).toMatchObject({ code: 'event.invalid', context: { field: 'total', attempts: 1 } });
  });

  it('normalises anything else once to a non-retriable internal error, keeping the cause', async () => {
    const thrown = new TypeError('undefined is not a function');
    const handler = flaky(10, () => thrown);
    const error = await retryInPlace({ retries: 5, backoff })(handler)(context()).catch((e: unknown) => e);
    expect(handler.attempts).toEqual([1]);
    expect(error).toMatchObject({ code: 'internal', retriable: false, cause: thrown, context: { attempts: 1 } });
  });

  it('waits the backoff delays, exponential and capped', async () => {
    const waits: number[] = [];
    const sleep: RetrySleep = async (ms) => {
      waits.push(ms);
    };
    const options = { retries: 4, backoff: { initialMs: 10, multiplier: 2, maxMs: 50, jitter: 0.2 }, sleep, random: () => 0.5 };
    await retryInPlace(options)(flaky(4, unavailable))(context());
    expect(waits).toEqual([10, 20, 40, 50]);
  });

  it('stops early when the signal aborts during a wait', async () => {
    const controller = new AbortController();
    const handler = flaky(10, unavailable);
    const started = Date.now();
    const call = retryInPlace({ retries: 5, backoff: { initialMs: 5_000, multiplier: 1, maxMs: 5_000, jitter: 0 } })(handler)(
      context(controller.signal),
    );
    setTimeout(() => controller.abort(), 20);
    await expect(call).rejects.toMatchObject({ code: 'broker.unavailable', context: { attempts: 1 } });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(handler.attempts).toEqual([1]);
  });

  it("leaves no listener on the signal after its waits: the subscriber's one signal outlives every record", async () => {
    const controller = new AbortController();
    const handler = flaky(2, unavailable);
    await retryInPlace({ retries: 3, backoff })(handler)(context(controller.signal));
    expect(handler.attempts).toEqual([1, 2, 3]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no timer behind when the signal ends a wait', async () => {
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const call = retryInPlace({ retries: 1, backoff: { initialMs: 60_000, multiplier: 1, maxMs: 60_000, jitter: 0 } })(
        flaky(5, unavailable),
      )(context(controller.signal));
      await vi.advanceTimersByTimeAsync(10);
      expect(vi.getTimerCount()).toBe(1);
      controller.abort();
      await expect(call).rejects.toMatchObject({ code: 'broker.unavailable' });
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not retry once the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const handler = flaky(10, unavailable);
    await expect(retryInPlace({ retries: 5, backoff })(handler)(context(controller.signal))).rejects.toMatchObject({
      context: { attempts: 1 },
    });
    expect(handler.attempts).toEqual([1]);
  });

  it('with retries: 0 tries once and passes the error on, without waiting', async () => {
    const waits: number[] = [];
    const handler = flaky(10, unavailable);
    const ctx = context();
    const error = await retryInPlace({ retries: 0, backoff, sleep: async (ms) => void waits.push(ms) })(handler)(ctx).catch(
      (e: unknown) => e,
    );
    expect(handler.attempts).toEqual([1]);
    expect(waits).toEqual([]);
    expect(ctx.attempt).toBe(1);
    expect(error).toMatchObject({ code: 'broker.unavailable', context: { attempts: 1 } });
  });

  it('passes the error on as a copy, leaving the one thrown as it was', async () => {
    const thrown = new JunctionError('broker.unavailable', 'down', { context: { topic: 'orders.order' } });
    const error = await retryInPlace({ retries: 0, backoff })(async () => {
      throw thrown;
    })(context()).catch((e: unknown) => e as JunctionError);
    expect(error).not.toBe(thrown);
    expect(error).toMatchObject({
      code: 'broker.unavailable',
      message: 'down',
      retriable: true,
      context: { topic: 'orders.order', attempts: 1 },
    });
    expect((error as JunctionError).stack).toBe(thrown.stack);
    expect(thrown.context).toEqual({ topic: 'orders.order' });
  });

  it('refuses a negative or fractional retry count, naming it', () => {
    expect(() => retryInPlace({ retries: 1.5, backoff })).toThrow('retryInPlace: retries must be a whole number ≥ 0, got 1.5');
  });

  it('refuses a negative retry count', () => {
    expect(() => retryInPlace({ retries: -1, backoff })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});
