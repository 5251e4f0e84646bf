import { JunctionError } from '@junction/observability';
import { type BackoffOptions, backoffDelay } from '../backoff.ts';
import type { EventContext, Middleware } from './types.ts';

/** Waits `ms`, or less when `signal` aborts; it never rejects. */
export type RetrySleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Options of {@link retryInPlace}. */
export interface RetryInPlaceOptions {
  /** Tries after the first; 0 tries once. Keep it small: the partition waits meanwhile. */
  retries: number;
  /** Delay before retry n (from 0): `initialMs × multiplier^n`, capped at `maxMs`, ± `jitter`. */
  backoff: BackoffOptions;
  /** For tests; default a timer that ends early when the signal aborts. */
  sleep?: RetrySleep;
  /** For tests: the jitter's random source. */
  random?: () => number;
}

const timerSleep: RetrySleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** The error with `attempts` added to its context; a copy, so an error thrown twice is not changed under its other holder. */
function withAttempts(error: JunctionError, attempts: number): JunctionError {
  const copy = new JunctionError(error.code, error.message, {
    retriable: error.retriable,
    cause: error.cause,
    context: { ...error.context, attempts },
  });
  if (error.stack !== undefined) copy.stack = error.stack;
  return copy;
}

/**
 * Retries the rest of the chain in place, for transient failures that pass in moments (a
 * dependency restarting): only retriable JunctionErrors are tried again; anything else thrown
 * is normalised once to a non-retriable `internal` error and passed on at once. Each try
 * increments `ctx.attempt`; an aborted `ctx.signal` (timeout, shutdown) ends the loop with the
 * last error. The error passed on carries `context.attempts`, the tries this middleware made.
 * Longer waits belong to retry topics, which do not hold up the partition.
 */
export function retryInPlace(options: RetryInPlaceOptions): Middleware {
  if (!Number.isInteger(options.retries) || options.retries < 0) {
    throw new JunctionError('config.invalid', `retryInPlace: retries must be a whole number ≥ 0, got ${options.retries}`);
  }
  const sleep = options.sleep ?? timerSleep;
  const random = options.random ?? Math.random;
  /** After a failed try: waits out the backoff and returns when the next try may go, or throws the error on. */
  const again = async (ctx: EventContext, thrown: unknown, retry: number): Promise<void> => {
    const error = JunctionError.from(thrown, 'internal');
    const attempts = retry + 1;
    if (!error.retriable || retry >= options.retries || ctx.signal.aborted) throw withAttempts(error, attempts);
    await sleep(backoffDelay(retry, options.backoff, random), ctx.signal);
    if (ctx.signal.aborted) throw withAttempts(error, attempts);
    ctx.attempt += 1;
  };
  // The failure path is a function of its own: an async function's frame is as large as all its
  // locals, and this one is made for every record, failed or not.
  return (next) => async (ctx) => {
    for (let retry = 0; ; retry += 1) {
      try {
        await next(ctx);
        return;
      } catch (thrown) {
        await again(ctx, thrown, retry);
      }
    }
  };
}
