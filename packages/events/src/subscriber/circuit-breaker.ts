import { JunctionError } from '@junction/observability';
import type { Middleware } from './types.ts';

/** `closed`: calls pass; `open`: calls fail fast; `half-open`: a few probes test the dependency. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Retriable failures that open the circuit: consecutive ones, or within `windowMs` when set. */
  failureThreshold: number;
  /** Count failures in a sliding window of this length instead of consecutive ones. */
  windowMs?: number;
  /** How long the circuit stays open before it lets probes through. */
  openMs: number;
  /** Probes let through at once when half-open; all must succeed to close. Default 1. */
  halfOpenProbes?: number;
  /** Called on every change of state, after it took effect. */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
  /** For tests: the clock. */
  now?: () => number;
}

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
 * failure opens it again for another `openMs`.
 *
 * Contract with the subscriber runtime: it pauses fetching of the partitions this breaker
 * guards when `onStateChange` reports `open`, and resumes them on `half-open` (or `closed`);
 * a timer, not an incoming call, ends the open state, so paused partitions are woken. Records
 * refused while open surface as retriable `circuit.open` errors, which the retry and
 * dead-letter middlewares treat like any transient failure. `state()` is the same answer
 * for polling.
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const problems: string[] = [];
  if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) problems.push('failureThreshold must be ≥ 1');
  if (!(options.openMs > 0)) problems.push('openMs must be positive');
  if (options.windowMs !== undefined && !(options.windowMs > 0)) problems.push('windowMs must be positive');
  const probes = options.halfOpenProbes ?? 1;
  if (!Number.isInteger(probes) || probes < 1) problems.push('halfOpenProbes must be ≥ 1');
  if (problems.length > 0) throw new JunctionError('config.invalid', `circuitBreaker: ${problems.join('; ')}`);
  const now = options.now ?? Date.now;

  let state: CircuitState = 'closed';
  let openedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Times of the failures that count: consecutive ones, or those inside the window. */
  let failures: number[] = [];
  let probesInFlight = 0;
  let probesSucceeded = 0;
  /** Bumped on every change of state: an answer counts only in the period that let its call through. */
  let period = 0;

  const become = (next: CircuitState) => {
    const previous = state;
    if (previous === next) return;
    state = next;
    period += 1;
    failures = [];
    probesInFlight = 0;
    probesSucceeded = 0;
    clearTimeout(timer);
    if (next === 'open') {
      openedAt = now();
      timer = setTimeout(() => become('half-open'), options.openMs);
      timer.unref();
    }
    options.onStateChange?.(next, previous);
  };

  const retryAfterMs = () => (state === 'open' ? Math.max(0, openedAt + options.openMs - now()) : 0);

  const failed = () => {
    if (state === 'half-open') return become('open');
    const at = now();
    failures.push(at);
    if (options.windowMs !== undefined) failures = failures.filter((t) => t > at - (options.windowMs ?? 0));
    if (failures.length >= options.failureThreshold) become('open');
  };

  const middleware: Middleware = (next) => async (ctx) => {
    const entered = state;
    const admitted = period;
    if (entered === 'open' || (entered === 'half-open' && probesInFlight >= probes)) {
      const { topic, partition, offset } = ctx.record;
      throw new JunctionError('circuit.open', `circuit open: the handler for ${topic}[${partition}]@${offset} was not called`, {
        context: { topic, partition, offset, retryAfterMs: retryAfterMs() },
      });
    }
    if (entered === 'half-open') probesInFlight += 1;
    try {
      await next(ctx);
    } catch (error) {
      // A slow call begun while closed must not decide the verdict of a half-open probe.
      if (period !== admitted) throw error;
      if (error instanceof JunctionError && error.retriable) failed();
      else if (entered === 'half-open') probesInFlight -= 1;
      throw error;
    }
    if (period !== admitted) return;
    if (entered === 'half-open') {
      probesSucceeded += 1;
      if (probesSucceeded >= probes) become('closed');
    } else if (options.windowMs === undefined) {
      failures = [];
    }
  };

  return { middleware, state: () => state, retryAfterMs, dispose: () => clearTimeout(timer) };
}
