import type { CircuitState } from '@junction/observability';
import { type FetchControl, RetryDue } from './retry-due.ts';

/** Options of a {@link FetchGate}. */
export interface FetchGateOptions {
  control: FetchControl;
  /** Every topic the subscriber reads (its sources and retry stages). */
  topics: readonly string[];
  /** Records taken and not finished, at most (then fetching holds; it goes on below half). */
  maxRecords: number;
  /** Bytes of records taken and not finished, at most (likewise). */
  maxBytes: number;
  /** Records taken and not finished now. */
  records: () => number;
  /** For tests: the clock of the retry due times. */
  now?: () => number;
}

/**
 * Decides when the subscriber fetches, for three reasons that may overlap:
 *
 * - **pressure**: past `maxRecords` or `maxBytes` of unfinished work the batch loop is held
 *   ({@link holdWhileFull}), heartbeating, until the work drains below half of both;
 * - **the breaker**: while it is open every partition is paused, and resumed when it lets probes
 *   through;
 * - **retry due times**: a partition whose next retry record is early waits for it
 *   ({@link RetryDue}), and stays paused through a resume of the others.
 *
 * After {@link stop} nothing resumes.
 */
export class FetchGate {
  readonly due: RetryDue;
  readonly #options: FetchGateOptions;
  #bytes = 0;
  #breakerOpen = false;
  #stopped = false;
  #holding = false;
  #drained: (() => void) | undefined;

  constructor(options: FetchGateOptions) {
    this.#options = options;
    this.due = new RetryDue(options.control, () => !this.#breakerOpen && !this.#stopped, options.now);
  }

  /** Bytes of records taken and not finished. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether fetching stopped for good. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Partitions paused now, of the `owned` ones: all while held or open, else those waiting for a retry. */
  pausedPartitions(owned: number): number {
    return this.#holding || this.#breakerOpen ? owned : this.due.size;
  }

  /** A record of `bytes` was taken on. */
  take(bytes: number): void {
    this.#bytes += bytes;
  }

  /** A record of `bytes` finished, or was dropped; wakes a held batch loop once below the low watermark. */
  release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#drained && this.#belowLowWatermark()) this.#drained();
  }

  /** A rebalance gave the work up: the retry holds go, and a held batch loop looks again. */
  revoked(): void {
    this.due.clear();
    this.#drained?.();
  }

  /** Follows the breaker: open pauses every partition, half-open or closed resumes them. */
  breaker(state: CircuitState): void {
    this.#breakerOpen = state === 'open';
    if (this.#breakerOpen) this.#pauseAll();
    else this.#resumeAll();
  }

  /** Stops fetching for good: pauses every partition and drops the retry holds. */
  stop(): void {
    this.#stopped = true;
    try {
      this.#pauseAll();
    } catch {
      // Never started, or already disconnected: nothing to pause.
    }
    this.due.clear();
  }

  /**
   * Backpressure: above the high watermark, holds the batch loop here — heartbeating every
   * second at most — until the work drains below the low watermark, the gate stops, or
   * `current()` turns false (a rebalance). (Pausing every partition instead would make kafkajs
   * sleep a whole fetch wait before it looks again.)
   */
  async holdWhileFull(heartbeat: () => Promise<void>, current: () => boolean): Promise<void> {
    const { maxRecords, maxBytes, records } = this.#options;
    if (records() < maxRecords && this.#bytes < maxBytes) return;
    this.#holding = true;
    try {
      while (!this.#belowLowWatermark() && !this.#stopped && current()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          this.#drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#drained = undefined;
        await heartbeat();
      }
    } finally {
      this.#holding = false;
    }
  }

  #belowLowWatermark(): boolean {
    const { maxRecords, maxBytes, records } = this.#options;
    return records() <= maxRecords / 2 && this.#bytes <= maxBytes / 2;
  }

  #pauseAll(): void {
    this.#options.control.pause(this.#options.topics.map((topic) => ({ topic })));
  }

  /** Resumes every topic, then pauses again the partitions waiting for a retry record to fall due. */
  #resumeAll(): void {
    if (this.#breakerOpen || this.#stopped) return;
    this.#options.control.resume(this.#options.topics.map((topic) => ({ topic })));
    this.due.pauseHeld();
  }
}
