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
 * At `failureThreshold` the circuit opens: calls fail fast with a retriable `circuit.open`
 * error carrying `context.retryAfterMs`, without calling next. After `openMs` it turns
 * half-open and lets `halfOpenProbes` calls through: their success closes it, a retriable
 * failure opens it again for another `openMs`. The state machine is observability's
 * `createCircuit`, which the outbound HTTP client's breakers share.
 *
 * Contract with the subscriber runtime: it pauses fetching of the partitions this breaker
 * guards when `onStateChange` reports `open`, and resumes them on `half-open` (or `closed`);
 * a timer, not an incoming call, ends the open state, so paused partitions are woken. Records
 * refused while open surface as retriable `circuit.open` errors, which the retry and
 * dead-letter middlewares treat like any transient failure. `state()` is the same answer
 * for polling.
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const circuit = createCircuit(options, 'circuitBreaker');
  const middleware: Middleware = (next) => async (ctx) => {
    const pass = circuit.admit();
    if (!pass) {
      const { topic, partition, offset } = ctx.record;
      throw new JunctionError('circuit.open', `circuit open: the handler for ${topic}[${partition}]@${offset} was not called`, {
        context: { topic, partition, offset, retryAfterMs: circuit.retryAfterMs() },
      });
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
