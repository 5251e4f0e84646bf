import type { Subscriber } from './subscriber-options.ts';

/**
 * Stops `subscriber` on SIGTERM or SIGINT — running work finishes within `deadlineMs`, offsets are
 * committed, connections close — then runs `afterStop` (close your database, say) and exits 0, or 1
 * when stopping failed. Returns a function that removes the handlers.
 */
export function stopOnSignals(subscriber: Subscriber, options: { deadlineMs?: number; afterStop?: () => Promise<void> } = {}): () => void {
  const onSignal = () => {
    subscriber
      .stop({ deadlineMs: options.deadlineMs ?? 30_000 })
      .then(() => options.afterStop?.())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
