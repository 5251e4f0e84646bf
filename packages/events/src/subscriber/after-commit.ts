import type { Middleware } from './types.ts';

/** Options of {@link afterCommit}. */
export interface AfterCommitOptions {
  /** Told of an effect that threw: the record's work is committed, so it does not fail for it. */
  onError?: (error: unknown) => void;
}

/**
 * Gives the handler `ctx.afterCommit`: effects it asks for run once everything inside this
 * middleware succeeded, so placed outside idempotency they run after the inbox transaction
 * committed. Each attempt collects its own; a failed attempt's are dropped (its writes rolled
 * back), and a duplicate runs no handler, so asks for none.
 */
export function afterCommit(options: AfterCommitOptions = {}): Middleware {
  const run = (effects: ReadonlyArray<() => void>) => {
    for (const effect of effects) {
      try {
        effect();
      } catch (error) {
        options.onError?.(error);
      }
    }
  };
  return (next) => async (ctx) => {
    // Most handlers ask for none: no list until one is asked for, on this per-record path.
    let effects: Array<() => void> | undefined;
    const outer = ctx.afterCommit;
    ctx.afterCommit = (effect) => {
      effects ??= [];
      effects.push(effect);
    };
    try {
      await next(ctx);
    } finally {
      ctx.afterCommit = outer;
    }
    if (effects) run(effects);
  };
}
