/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Most tokens held at once (the burst); starts full. Default: a tenth of a second's worth, at least 1. */
  capacity?: number;
  /** The clock, in ms; `Date.now` unless a test drives it. */
  now?: () => number;
  /** Waits `ms`; a timer unless a test drives it. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket: `take(n)` waits until `n` tokens are there and spends them, so over any span
 * no more than `capacity + rate × span` are taken. A take larger than what is there goes into
 * debt and waits for it, which keeps the long-run rate exact for any batch size.
 */
export class TokenBucket {
  readonly rate: number;
  readonly capacity: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #at: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`the rate must be above 0, got ${options.ratePerSecond}`);
    this.rate = options.ratePerSecond;
    this.capacity = Math.max(1, options.capacity ?? Math.floor(this.rate / 10));
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#tokens = this.capacity;
    this.#at = this.#now();
  }

  /** Spends `n` tokens and returns how many ms the caller must wait before acting on them. */
  reserve(n: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.rate);
  }

  /** Waits until `n` tokens are there and spends them. */
  async take(n: number): Promise<void> {
    const wait = this.reserve(n);
    if (wait > 0) await this.#sleep(wait);
  }
}
