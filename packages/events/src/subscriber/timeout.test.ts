import { getEventListeners } from 'node:events';
import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { timeout } from './timeout.ts';
import type { EventContext } from './types.ts';

function context(signal: AbortSignal = new AbortController().signal): EventContext {
  return {
    group: 'billing',
    record: { topic: 'orders.order', partition: 2, offset: '41', key: 'o-1', value: null, headers: {}, timestamp: 0 },
    attempt: 1,
    signal,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('timeout', () => {
  it('lets a handler that finishes in time through', async () => {
    const ctx = context();
    const incoming = ctx.signal;
    await timeout({ ms: 200 })(async (inner) => {
      await sleep(5);
      inner.outcome = 'deduplicated';
    })(ctx);
    expect(ctx.outcome).toBe('deduplicated');
    expect(ctx.signal).toBe(incoming);
  });

  it('passes a handler failure on unchanged', async () => {
    const failure = new JunctionError('event.invalid', 'bad');
    await expect(
      timeout({ ms: 200 })(async () => {
        throw failure;
      })(context()),
    ).rejects.toBe(failure);
  });

  it('passes on a handler that throws before returning a promise, and puts the signal back', async () => {
    const failure = new JunctionError('event.invalid', 'thrown at once');
    const ctx = context();
    const incoming = ctx.signal;
    let seen: AbortSignal | undefined;
    const middleware = timeout({ ms: 20 })(((inner: EventContext) => {
      seen = inner.signal;
      throw failure;
    }) as unknown as (ctx: EventContext) => Promise<void>);
    await expect(middleware(ctx)).rejects.toBe(failure);
    expect(ctx.signal).toBe(incoming);
    await sleep(40);
    // The limit was disarmed with the failure: it never fires afterwards.
    expect(seen?.aborted).toBe(false);
  });

  it('aborts the handler signal and rejects with a retriable timeout naming the record and the limit', async () => {
    let seen: AbortSignal | undefined;
    const error = await timeout({ ms: 20 })(async (ctx) => {
      seen = ctx.signal;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    })(context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({
      code: 'timeout',
      retriable: true,
      context: { topic: 'orders.order', partition: 2, offset: '41', timeoutMs: 20 },
    });
    expect((error as Error).message).toContain('orders.order[2]@41');
    expect(seen?.aborted).toBe(true);
  });

  it('does not wait for a handler that ignores its signal', async () => {
    const started = Date.now();
    let finished = false;
    const call = timeout({ ms: 20 })(async () => {
      await sleep(300);
      finished = true;
      throw new Error('late, and nobody hears it');
    })(context());
    await expect(call).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(250);
    expect(finished).toBe(false);
    await sleep(320);
    expect(finished).toBe(true);
  });

  it('combines the incoming signal: a shutdown aborts the handler before the limit', async () => {
    const shutdown = new AbortController();
    let reason: unknown;
    const call = timeout({ ms: 10_000 })(async (ctx) => {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason;
          resolve();
        }),
      );
    })(context(shutdown.signal));
    shutdown.abort('stopping');
    await call;
    expect(reason).toBe('stopping');
  });

  it('refuses a limit that is not positive', () => {
    expect(() => timeout({ ms: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid', retriable: false }));
  });

  it('aborts the handler at once when the incoming signal was aborted before the call', async () => {
    const incoming = new AbortController();
    incoming.abort(new Error('stopping'));
    const ctx = context(incoming.signal);
    let aborted: boolean | undefined;
    await timeout({ ms: 1_000 })(async (c) => {
      aborted = c.signal.aborted;
    })(ctx);
    expect(aborted).toBe(true);
  });

  it('lets go of the handler signal when the call ends: no timer fires, no later abort reaches it', async () => {
    const incoming = new AbortController();
    const ctx = context(incoming.signal);
    let inner: AbortSignal | undefined;
    await timeout({ ms: 20 })(async (c) => {
      inner = c.signal;
    })(ctx);
    expect(ctx.signal).toBe(incoming.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    incoming.abort(new Error('later'));
    expect(inner?.aborted).toBe(false);
  });

  it('says which limit was refused', () => {
    expect(() => timeout({ ms: 0 })).toThrow('timeout: ms must be a positive number, got 0');
    expect(() => timeout({ ms: Number.NaN })).toThrow('got NaN');
  });

  it('puts the incoming signal back when the limit passes, and a late result changes nothing after', async () => {
    const ctx = context();
    const incoming = ctx.signal;
    let finish = () => {};
    const call = timeout({ ms: 20 })(
      (inner) =>
        new Promise<void>((resolve) => {
          finish = () => {
            inner.outcome = 'skipped';
            resolve();
          };
        }),
    )(ctx);
    await expect(call).rejects.toMatchObject({ code: 'timeout' });
    expect(ctx.signal).toBe(incoming);
    // The next try (an in-place retry) has a signal of its own; the first try's late end keeps off it.
    const next = new AbortController().signal;
    ctx.signal = next;
    finish();
    await sleep(10);
    expect(ctx.signal).toBe(next);
  });

  it('listens once on an incoming signal for all the calls under it, and aborts the running ones when it aborts', async () => {
    const shutdown = new AbortController();
    const limited = timeout({ ms: 10_000 });
    const seen: AbortSignal[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = limited(async (ctx) => {
      seen.push(ctx.signal);
      await held;
    });
    const quick = limited(async () => {});
    await Promise.all(Array.from({ length: 20 }, () => quick(context(shutdown.signal))));
    const running = [handler(context(shutdown.signal)), handler(context(shutdown.signal))];
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort('stopping');
    expect(seen.map((signal) => [signal.aborted, signal.reason])).toEqual([
      [true, 'stopping'],
      [true, 'stopping'],
    ]);
    release();
    await Promise.all(running);
  });
});
