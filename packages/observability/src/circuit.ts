import { JunctionError } from './errors.ts';

/** `closed`: calls pass; `open`: calls fail fast; `half-open`: a few probes test the dependency. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link createCircuit}. */
export interface CircuitOptions {
  /** Failures that open the circuit: consecutive ones, or within `windowMs` when set. */
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

/** One call the circuit let through; settle it exactly once with what became of the call. */
export interface CircuitPass {
  /** The call succeeded: the dependency answers. */
  succeeded(): void;
  /** The call failed in a way that says the dependency is down (refused, timed out, unavailable). */
  failed(): void;
  /** The call failed in a way that says nothing about the dependency (bad data, a bug). */
  released(): void;
}

/** A circuit breaker's state machine, with no opinion on what a call is. */
export interface Circuit {
  /** A pass for one call, or undefined when the circuit refuses it (open, or half-open with every probe out). */
  admit(): CircuitPass | undefined;
  state(): CircuitState;
  /** While open, milliseconds until probes are let through; 0 otherwise. */
  retryAfterMs(): number;
  /** Stops the timer that ends the open state (the circuit then stays as it is). */
  dispose(): void;
}

/**
 * The state machine shared by the subscriber's breaker (`@junction/events`) and the outbound HTTP
 * client's breakers (`@junction/http`). At `failureThreshold` failures the circuit opens and
 * refuses calls; after `openMs` a timer (not an incoming call, so whoever waits on
 * `onStateChange` is woken) turns it half-open and it admits `halfOpenProbes` calls: their success
 * closes it, a failure opens it again for another `openMs`.
 */
export function createCircuit(options: CircuitOptions, name = 'circuit'): Circuit {
  const problems: string[] = [];
  if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) problems.push('failureThreshold must be ≥ 1');
  if (!(options.openMs > 0)) problems.push('openMs must be positive');
  if (options.windowMs !== undefined && !(options.windowMs > 0)) problems.push('windowMs must be positive');
  const probes = options.halfOpenProbes ?? 1;
  if (!Number.isInteger(probes) || probes < 1) problems.push('halfOpenProbes must be ≥ 1');
  if (problems.length > 0) throw new JunctionError('config.invalid', `${name}: ${problems.join('; ')}`);
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

  const admit = (): CircuitPass | undefined => {
    const entered = state;
    const admitted = period;
    if (entered === 'open' || (entered === 'half-open' && probesInFlight >= probes)) return undefined;
    if (entered === 'half-open') probesInFlight += 1;
    let settled = false;
    // A slow call begun in an earlier period (closed, say) must not decide a later one's verdict.
    const settle = (verdict: () => void) => {
      if (settled) return;
      settled = true;
      if (period === admitted) verdict();
    };
    return {
      succeeded: () =>
        settle(() => {
          if (entered === 'half-open') {
            probesSucceeded += 1;
            if (probesSucceeded >= probes) become('closed');
          } else if (options.windowMs === undefined) {
            failures = [];
          }
        }),
      failed: () =>
        settle(() => {
          if (state === 'half-open') return become('open');
          const at = now();
          failures.push(at);
          if (options.windowMs !== undefined) failures = failures.filter((t) => t > at - (options.windowMs ?? 0));
          if (failures.length >= options.failureThreshold) become('open');
        }),
      released: () =>
        settle(() => {
          if (entered === 'half-open') probesInFlight -= 1;
        }),
    };
  };

  return { admit, state: () => state, retryAfterMs, dispose: () => clearTimeout(timer) };
}
