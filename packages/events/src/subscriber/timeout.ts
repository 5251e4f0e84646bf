import { JunctionError } from '@junction/observability';
import { Deadlines } from './deadlines.ts';
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
  // This runs for every record: one timer for all the calls' limits, and one abort listener per
  // incoming signal (the subscriber's, usually) for all the calls under it, rather than a timer
  // and a listener each. Not AbortSignal.any either: it registers every per-record signal with
  // the long-lived one until garbage collection.
  const deadlines = new Deadlines(ms);
  const linked = new WeakMap<AbortSignal, Set<AbortController>>();
  const link = (incoming: AbortSignal, limit: AbortController): Set<AbortController> => {
    let limits = linked.get(incoming);
    if (!limits) {
      // A signal aborts once; the calls under it leave the set as they settle.
      const under = new Set<AbortController>();
      incoming.addEventListener('abort', () => {
        for (const each of under) each.abort(incoming.reason);
      });
      linked.set(incoming, under);
      limits = under;
    }
    limits.add(limit);
    return limits;
  };
  return (next) => (ctx) => {
    const incoming = ctx.signal;
    const limit = new AbortController();
    let limits: Set<AbortController> | undefined;
    if (incoming.aborted) limit.abort(incoming.reason);
    else limits = link(incoming, limit);
    ctx.signal = limit.signal;
    // One promise settled by whichever comes first, the handler or the limit (no race of two
    // promises: this runs for every record).
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        deadlines.disarm(deadline);
        limits?.delete(limit);
        ctx.signal = incoming;
      };
      // A disarmed deadline never fires: this runs only while the call is unsettled.
      const deadline = deadlines.arm(() => {
        const { topic, partition, offset } = ctx.record;
        const error = new JunctionError('timeout', `handler for ${topic}[${partition}]@${offset} did not finish within ${ms} ms`, {
          context: { topic, partition, offset, group: ctx.group, timeoutMs: ms },
        });
        limit.abort(error);
        settle();
        reject(error);
      });
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
