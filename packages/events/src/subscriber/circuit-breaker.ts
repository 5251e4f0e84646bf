import { type CircuitOptions, type CircuitState, createCircuit, JunctionError } from '@junction/observability';
import type { Middleware } from './types.ts';

export type { CircuitState } from '@junction/observability';

/** Options of {@link circuitBreaker}: those of observability's `createCircuit`, where a failure is a retriable error. */
export type CircuitBreakerOptions = CircuitOptions;

/** A circuit breaker: its middleware and what the subscriber runtime reads of it. */
export interface CircuitBreaker {
  middleware: Middleware;
  state(): CircuitState;
  /** While open, milliseconds until probes are let through; 0 otherwise. */
  retryAfterMs(): number;
  /** Stops the timer that ends the open state (the breaker then stays as it is). */
  dispose(): void;
}

/**
 * Stops calling a dependency that keeps failing. Retriable failures (the dependency is down)
 * count; non-retriable ones (bad data, a bug) say nothing about the dependency and do not.
 * At `failureThreshold` the circuit opens: calls return at once without calling next, the
 * record put off (`ctx.deferred` with `retryAfterMs`). After `openMs` it turns
 * half-open and lets `halfOpenProbes` calls through: their success closes it, a retriable
 * failure opens it again for another `openMs`. The state machine is observability's
 * `createCircuit`, which the outbound HTTP client's breakers share.
 *
 * Contract with the subscriber runtime: it pauses fetching of the partitions this breaker
 * guards when `onStateChange` reports `open`, and resumes them on `half-open` (or `closed`);
 * a timer, not an incoming call, ends the open state, so paused partitions are woken. A record
 * refused while open comes back put off, not failed: the retry and dead-letter middlewares see
 * a call that returned and spend nothing on it, and the subscriber runs it again once probes
 * are let through. `state()` is the same answer for polling.
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const circuit = createCircuit(options, 'circuitBreaker');
  const middleware: Middleware = (next) => async (ctx) => {
    const pass = circuit.admit();
    if (!pass) {
      // Not a failure of the record: it is put off, and the subscriber runs it again.
      ctx.deferred = { retryAfterMs: circuit.retryAfterMs() };
      return;
    }
    try {
      await next(ctx);
    } catch (error) {
      if (error instanceof JunctionError && error.retriable) pass.failed();
      else pass.released();
      throw error;
    }
    pass.succeeded();
  };
  return { middleware, state: circuit.state, retryAfterMs: circuit.retryAfterMs, dispose: circuit.dispose };
}
