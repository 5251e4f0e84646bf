import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../../../schemas/generated/events.ts';
import { resolveSubscriberOptions, type SubscriberOptions } from './subscriber-options.ts';

const base: SubscriberOptions<Record<string, Record<string, unknown>>> = {
  group: 'billing',
  kafka: { brokers: ['127.0.0.1:9092'] },
  registry: { url: 'http://127.0.0.1:8081' },
  catalog,
  handlers: { 'com.junction.orders.OrderPlaced': async () => {} },
};

const problemsOf = (options: Record<string, unknown>): string[] => {
  try {
    resolveSubscriberOptions({ ...base, ...options } as never);
  } catch (error) {
    expect(error).toBeInstanceOf(JunctionError);
    expect(error).toMatchObject({ code: 'config.invalid', retriable: false });
    expect((error as Error).message).toMatch(/^subscriber options are not valid: /);
    return (error as JunctionError).context.problems as string[];
  }
  return [];
};

describe('resolveSubscriberOptions', () => {
  it('applies every default', () => {
    expect(resolveSubscriberOptions(base)).toEqual({
      group: 'billing',
      ordering: 'partition',
      maxConcurrency: 16,
      retry: {
        mode: 'topics',
        delaysMs: [1000, 10_000],
        inPlace: { retries: 2, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 } },
      },
      timeoutMs: 30_000,
      maxInFlight: { records: 5000, bytes: 64 * 1024 * 1024 },
      sessionTimeoutMs: 30_000,
      commitIntervalMs: 1000,
    });
  });

  it('keeps what is given, filling in only what is not', () => {
    const resolved = resolveSubscriberOptions({
      ...base,
      ordering: 'key',
      maxConcurrency: 4,
      retry: { mode: 'blocking', inPlace: { retries: 0 } },
      maxInFlight: { records: 10 },
      sessionTimeoutMs: 6000,
    });
    expect(resolved).toMatchObject({
      ordering: 'key',
      maxConcurrency: 4,
      retry: { mode: 'blocking', delaysMs: [1000, 10_000], inPlace: { retries: 0, backoff: { initialMs: 100 } } },
      maxInFlight: { records: 10, bytes: 64 * 1024 * 1024 },
      sessionTimeoutMs: 6000,
    });
  });

  it('names every problem at once, each at its path', () => {
    expect(
      problemsOf({
        group: 'billing service',
        ordering: 'random',
        maxConcurrency: 0,
        retry: { delaysMs: [], inPlace: { retries: -1 } },
        timeoutMs: 1.5,
        maxInFlight: { records: 0, bytes: 10 },
        sessionTimeoutMs: 1000,
        commitIntervalMs: 0,
      }),
    ).toEqual([
      expect.stringMatching(/^group: the subscribing service, e\.g\. billing/),
      expect.stringMatching(/^ordering: /),
      expect.stringMatching(/^maxConcurrency: /),
      'retry.delaysMs: at least one stage; use mode: "blocking" for none',
      expect.stringMatching(/^retry\.inPlace\.retries: /),
      'timeoutMs: a whole number of milliseconds',
      expect.stringMatching(/^maxInFlight\.records: /),
      expect.stringMatching(/^maxInFlight\.bytes: /),
      expect.stringMatching(/^sessionTimeoutMs: /),
      expect.stringMatching(/^commitIntervalMs: /),
    ]);
  });

  it('refuses handlers for types the catalog lacks, handlers that are not functions, and none at all', () => {
    expect(
      problemsOf({ handlers: { 'com.junction.orders.OrderPlacd': async () => {}, 'com.junction.orders.OrderCancelled': 'nope' } }),
    ).toEqual([
      'handlers.com.junction.orders.OrderPlacd: not an event type of the catalog',
      'handlers.com.junction.orders.OrderCancelled: expected a function',
    ]);
    expect(problemsOf({ handlers: {} })).toEqual([expect.stringMatching(/^handlers: none given/)]);
  });

  it('refuses middlewares that are not functions and a catalog that is not one', () => {
    expect(problemsOf({ middlewares: [() => {}, 'x'], onOutcome: 5 })).toEqual([
      'middlewares: expected an array of middleware functions',
      'onOutcome: expected a function',
    ]);
    expect(problemsOf({ catalog: {} })).toContain('catalog: expected the catalog of schemas/');
  });

  it('takes the bounds at their edges', () => {
    expect(() =>
      resolveSubscriberOptions({
        ...base,
        group: `${'g'.repeat(100)}`,
        maxConcurrency: 1,
        retry: { delaysMs: [1], inPlace: { retries: 20 } },
        timeoutMs: 1,
        sessionTimeoutMs: 1_800_000,
        commitIntervalMs: 60_000,
      }),
    ).not.toThrow();
    expect(problemsOf({ group: 'g'.repeat(101) })).toHaveLength(1);
    expect(problemsOf({ retry: { inPlace: { retries: 21 } } })).toHaveLength(1);
    expect(problemsOf({ sessionTimeoutMs: 5999 })).toHaveLength(1);
  });

  it('accepts middlewares and onOutcome that are functions, and joins every problem into the message', () => {
    expect(() => resolveSubscriberOptions({ ...base, middlewares: [(next) => next], onOutcome: () => {} })).not.toThrow();
    expect(() => resolveSubscriberOptions({ ...base, group: '', timeoutMs: 0 })).toThrow(
      /^subscriber options are not valid: group: .+; timeoutMs: .+$/,
    );
  });

  it('fills in a retry given in part: the mode, the stages and the in-place backoff', () => {
    expect(resolveSubscriberOptions({ ...base, retry: { delaysMs: [5] } }).retry).toEqual({
      mode: 'topics',
      delaysMs: [5],
      inPlace: { retries: 2, backoff: { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 } },
    });
    expect(resolveSubscriberOptions({ ...base, ordering: 'partition', retry: { mode: 'topics' } })).toMatchObject({
      ordering: 'partition',
      retry: { mode: 'topics' },
    });
  });

  it('checks the in-place backoff', () => {
    const backoff = (b: Record<string, number>) => ({
      retry: { inPlace: { retries: 1, backoff: { initialMs: 5, multiplier: 3, maxMs: 50, jitter: 1, ...b } } },
    });
    expect(problemsOf(backoff({}))).toEqual([]);
    expect(problemsOf(backoff({ jitter: 0 }))).toEqual([]);
    expect(problemsOf(backoff({ initialMs: 0 }))).toEqual([expect.stringMatching(/^retry\.inPlace\.backoff\.initialMs: /)]);
    expect(problemsOf(backoff({ multiplier: 0.5 }))).toEqual([expect.stringMatching(/^retry\.inPlace\.backoff\.multiplier: /)]);
    expect(problemsOf(backoff({ maxMs: 0 }))).toEqual([expect.stringMatching(/^retry\.inPlace\.backoff\.maxMs: /)]);
    expect(problemsOf(backoff({ jitter: 1.5 }))).toEqual([expect.stringMatching(/^retry\.inPlace\.backoff\.jitter: /)]);
    expect(problemsOf(backoff({ jitter: -0.1 }))).toEqual([expect.stringMatching(/^retry\.inPlace\.backoff\.jitter: /)]);
  });

  it('says so when there is no catalog at all, without failing on it', () => {
    expect(problemsOf({ catalog: undefined })).toEqual(['catalog: expected the catalog of schemas/']);
  });
});
