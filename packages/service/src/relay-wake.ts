import type { Handler, Outbox, Queryable } from '@junction/events';

/**
 * The outbox a service's code is given, and its handlers as the subscribers run them, such that
 * the relay is told to look (`wake`) after a handler's transaction that added events commits, and
 * only then: a handler that added nothing (a saga step that only moves a status, a type it
 * remembers) would send the relay to read the outbox for nothing.
 */
export function relayWaking(outbox: Outbox, wake: () => void): { outbox: Outbox; handler: (handler: Handler) => Handler } {
  const added = new WeakSet<Queryable>();
  return {
    outbox: {
      add(tx, event) {
        added.add(tx);
        return outbox.add(tx, event);
      },
    },
    handler: (handler) => async (ctx) => {
      await handler(ctx);
      // The inbox's transaction commits after the handler returns; the effect runs after that.
      if (ctx.tx && added.has(ctx.tx)) ctx.afterCommit?.(wake);
    },
  };
}
