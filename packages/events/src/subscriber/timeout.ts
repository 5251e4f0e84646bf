import { JunctionError } from '@junction/observability';
import type { Middleware } from './types.ts';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** How long one handler call may take, in milliseconds. */
  ms: number;
}

/**
 * Bounds a handler's time: the handler sees `ctx.signal` aborted after `ms` (or when the
 * incoming signal aborts), and the middleware rejects with a retriable `timeout` error at that
 * moment whether or not the handler listens. A handler that ignores its signal keeps running
 * in the background; its eventual result is dropped, never reported twice.
 *
 * `ctx.signal` is swapped in place (not on a copy, so what inner middlewares write into the
 * context, such as `outcome`, reaches the subscriber) and put back when the call ends, so a
 * per-try timeout inside an in-place retry gives each try a fresh limit. A handler that wants
 * its own limit should read `ctx.signal` when it starts, not later.
 */
export function timeout(options: TimeoutOptions): Middleware {
  if (!Number.isFinite(options.ms) || options.ms <= 0) {
    throw new JunctionError('config.invalid', `timeout: ms must be a positive number, got ${options.ms}`);
  }
  const { ms } = options;
  return (next) => (ctx) => {
    const incoming = ctx.signal;
    const limit = new AbortController();
    // Not AbortSignal.any: it registers every per-record signal with the subscriber's long-lived one
    // until garbage collection, which costs more per record the more records went by.
    const forward = () => limit.abort(incoming.reason);
    if (incoming.aborted) forward();
    else incoming.addEventListener('abort', forward, { once: true });
    ctx.signal = limit.signal;
    // One promise settled by whichever comes first, the handler or the limit (no race of two
    // promises: this runs for every record).
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        incoming.removeEventListener('abort', forward);
        ctx.signal = incoming;
      };
      const timer = setTimeout(() => {
        if (settled) return;
        const { topic, partition, offset } = ctx.record;
        const error = new JunctionError('timeout', `handler for ${topic}[${partition}]@${offset} did not finish within ${ms} ms`, {
          context: { topic, partition, offset, group: ctx.group, timeoutMs: ms },
        });
        limit.abort(error);
        settle();
        reject(error);
      }, ms);
      let running: Promise<void>;
      try {
        // Promise.resolve: a middleware that forgot to return its promise still gets an answer.
        running = Promise.resolve(next(ctx));
      } catch (error) {
        running = Promise.reject(error);
      }
      // A result after the limit is dropped, never reported twice.
      running.then(
        () => {
          if (settled) return;
          settle();
          resolve();
        },
        (error: unknown) => {
          if (settled) return;
          settle();
          reject(error);
        },
      );
    });
  };
}
