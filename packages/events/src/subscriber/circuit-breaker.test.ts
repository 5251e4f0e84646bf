import { JunctionError } from '@junction/observability';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CircuitState, circuitBreaker } from './circuit-breaker.ts';
import { deadLetter } from './dead-letter.ts';
import { retryInPlace } from './retry.ts';
import { retryTopics } from './retry-topics.ts';
import { chain, type EventContext, type Handler } from './types.ts';

function context(offset = 0): EventContext {
  return {
    group: 'billing',
    record: { topic: 'orders.order', partition: 1, offset: String(offset), key: 'o-1', value: null, headers: {}, timestamp: 0 },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

/** A dependency whose health the test switches; counts the calls that reached it. */
function dependency() {
  const dep = { healthy: true, calls: 0, failure: () => new JunctionError('broker.unavailable', 'down') as Error };
  const handler: Handler = async () => {
    dep.calls += 1;
    if (!dep.healthy) throw dep.failure();
  };
  return Object.assign(dep, { handler });
}

const settle = (call: Promise<void>) =>
  call.then(
    () => 'ok' as const,
    (error: unknown) => error,
  );

describe('circuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after consecutive retriable failures, then fails fast without calling the handler', async () => {
    const changes: Array<[CircuitState, CircuitState]> = [];
    const breaker = circuitBreaker({ failureThreshold: 3, openMs: 1_000, onStateChange: (s, p) => changes.push([s, p]) });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    dep.healthy = false;
    for (let i = 0; i < 3; i += 1) await settle(handle(context(i)));
    expect(breaker.state()).toBe('open');
    expect(changes).toEqual([['open', 'closed']]);
    vi.advanceTimersByTime(400);
    const ctx = context(9);
    // Put off, not failed: the call returns, and the record says when to run it again.
    expect(await settle(handle(ctx))).toBe('ok');
    expect(dep.calls).toBe(3);
    expect(ctx.deferred).toEqual({ retryAfterMs: 600 });
    expect(ctx.outcome).toBeUndefined();
    expect(breaker.retryAfterMs()).toBe(600);
  });

  it('a success in between resets the consecutive count', async () => {
    const breaker = circuitBreaker({ failureThreshold: 2, openMs: 1_000 });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    for (const healthy of [false, true, false, true, false]) {
      dep.healthy = healthy;
      await settle(handle(context()));
    }
    expect(breaker.state()).toBe('closed');
  });

  it('does not count non-retriable failures: bad data says nothing about the dependency', async () => {
    const breaker = circuitBreaker({ failureThreshold: 2, openMs: 1_000 });
    const dep = dependency();
    dep.healthy = false;
    dep.failure = () => new JunctionError('event.invalid', 'bad data');
    for (let i = 0; i < 5; i += 1) await settle(breaker.middleware(dep.handler)(context()));
    dep.failure = () => new TypeError('a bug');
    for (let i = 0; i < 5; i += 1) await settle(breaker.middleware(dep.handler)(context()));
    expect(breaker.state()).toBe('closed');
    expect(dep.calls).toBe(10);
  });

  it('after openMs a timer makes it half-open; a successful probe closes it', async () => {
    const changes: CircuitState[] = [];
    const breaker = circuitBreaker({ failureThreshold: 1, openMs: 500, onStateChange: (s) => changes.push(s) });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    dep.healthy = false;
    await settle(handle(context()));
    vi.advanceTimersByTime(500);
    // No call was needed: a paused subscriber learns it may resume.
    expect(breaker.state()).toBe('half-open');
    dep.healthy = true;
    expect(await settle(handle(context()))).toBe('ok');
    expect(breaker.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('gives the probe slot back when a probe fails for bad data: the next call probes, the circuit stays half-open', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, openMs: 500, halfOpenProbes: 1 });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    dep.healthy = false;
    await settle(handle(context()));
    vi.advanceTimersByTime(500);
    dep.failure = () => new JunctionError('event.invalid', 'bad data');
    expect(await settle(handle(context(1)))).toMatchObject({ code: 'event.invalid' });
    expect(breaker.state()).toBe('half-open');
    dep.healthy = true;
    const next = context(2);
    expect(await settle(handle(next))).toBe('ok');
    expect(next.deferred).toBeUndefined();
    expect([dep.calls, breaker.state()]).toEqual([3, 'closed']);
  });

  it('a failed probe opens it again for another openMs', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, openMs: 500 });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    dep.healthy = false;
    await settle(handle(context()));
    vi.advanceTimersByTime(500);
    await settle(handle(context()));
    expect(breaker.state()).toBe('open');
    expect(breaker.retryAfterMs()).toBe(500);
    expect(dep.calls).toBe(2);
  });

  it('lets only halfOpenProbes calls through at once while half-open', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, openMs: 100, halfOpenProbes: 2 });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    let failing = true;
    const handle = breaker.middleware(async () => {
      calls += 1;
      if (failing) throw new JunctionError('timeout', 'slow');
      await gate;
    });
    await settle(handle(context()));
    failing = false;
    vi.advanceTimersByTime(100);
    const probes = [handle(context(1)), handle(context(2))];
    const third = context(3);
    expect(await settle(handle(third))).toBe('ok');
    expect(third.deferred).toEqual({ retryAfterMs: 0 });
    release();
    await Promise.all(probes);
    expect(calls).toBe(3);
    expect(breaker.state()).toBe('closed');
  });

  it('with windowMs, counts failures inside the window only', async () => {
    const breaker = circuitBreaker({ failureThreshold: 3, windowMs: 1_000, openMs: 500 });
    const dep = dependency();
    const handle = breaker.middleware(dep.handler);
    for (const healthy of [false, true, false]) {
      dep.healthy = healthy;
      await settle(handle(context()));
    }
    vi.advanceTimersByTime(1_500);
    dep.healthy = false;
    await settle(handle(context()));
    await settle(handle(context()));
    expect(breaker.state()).toBe('closed');
    await settle(handle(context()));
    expect(breaker.state()).toBe('open');
  });

  it('puts a record off past the retry and dead-letter middlewares: no retry spent, nothing written', async () => {
    const breaker = circuitBreaker({ failureThreshold: 1, openMs: 1_000 });
    const dep = dependency();
    const written: string[] = [];
    const sink = async (topic: string) => {
      written.push(topic);
    };
    const sleeps: number[] = [];
    const pipeline = chain(
      [
        deadLetter({ sink }),
        retryTopics({ delaysMs: [1000], sink }),
        retryInPlace({
          retries: 2,
          backoff: { initialMs: 10, multiplier: 2, maxMs: 100, jitter: 0 },
          sleep: async (ms) => void sleeps.push(ms),
        }),
        breaker.middleware,
      ],
      dep.handler,
    );
    dep.healthy = false;
    // The first try fails and opens the breaker; the try in place after it is put off.
    const first = context(1);
    await pipeline(first);
    expect(breaker.state()).toBe('open');
    expect(first.deferred).toEqual({ retryAfterMs: 1_000 });
    expect(first.attempt).toBe(2);
    expect(sleeps).toEqual([10]);
    expect(dep.calls).toBe(1);
    // While open, a record is put off before any try.
    const second = context(2);
    await pipeline(second);
    expect(second.deferred).toEqual({ retryAfterMs: 1_000 });
    expect(second.attempt).toBe(1);
    expect(sleeps).toEqual([10]);
    expect(written).toEqual([]);
    expect(dep.calls).toBe(1);
  });

  it('reports every invalid option at once', () => {
    expect(() => circuitBreaker({ failureThreshold: 0, openMs: -1 })).toThrow(/circuitBreaker.*failureThreshold.*openMs/);
  });
});
