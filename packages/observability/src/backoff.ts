/**
 * How long to wait between attempts: `initialMs × multiplier^attempt`, capped at `maxMs`,
 * then spread by ±`jitter` (a fraction) so that many clients failing together do not retry
 * in lockstep.
 */
export interface BackoffOptions {
  initialMs: number;
  multiplier: number;
  maxMs: number;
  /** 0 for none, 0.2 for ±20 %. */
  jitter: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.multiplier ** attempt);
  const spread = base * options.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}
