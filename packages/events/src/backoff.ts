import { type BackoffOptions, backoffDelay } from '@junction/observability';

// The formula lives in observability, which the outbound HTTP client shares; events keeps its names.
export { type BackoffOptions, backoffDelay } from '@junction/observability';

/** Options of {@link retrying}. */
export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt; 0 tries once. */
  retries: number;
  /** Whether a failure is worth another try. */
  retriable: (error: unknown) => boolean;
}

/** Runs `call`, retrying retriable failures with backoff, at most `retries` times. */
export async function retrying<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= options.retries || !options.retriable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, options)));
    }
  }
}
