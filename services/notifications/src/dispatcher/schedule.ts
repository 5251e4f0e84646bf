import { type BackoffOptions, backoffDelay } from '@junction/service';

/** When a failed delivery is tried again, and when it is given up. */
export interface RetrySchedule extends BackoffOptions {
  /** Attempts of one round (a replay starts a new round) before it is given up. */
  maxAttempts: number;
  /** Age of a round after which it is given up, whatever its attempts. */
  maxAgeMs: number;
}

/** What becomes of a delivery whose attempt failed. */
export type AfterFailure = { retryAt: Date } | { giveUp: string };

/**
 * After the round's `attempts`-th failed attempt: the next one, backed off exponentially with
 * jitter, unless the round ran out of attempts or the next would come past its age.
 */
export function afterFailure(
  schedule: RetrySchedule,
  attempts: number,
  roundStartedAt: Date,
  now: Date,
  random = Math.random,
): AfterFailure {
  if (attempts >= schedule.maxAttempts) return { giveUp: `gave up after ${attempts} attempts` };
  const retryAt = new Date(now.getTime() + backoffDelay(attempts - 1, schedule, random));
  if (retryAt.getTime() - roundStartedAt.getTime() > schedule.maxAgeMs)
    return { giveUp: `gave up after ${attempts} attempts: the next would come ${schedule.maxAgeMs} ms after the first` };
  return { retryAt };
}
