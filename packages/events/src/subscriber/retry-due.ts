/** What the fetch gate asks of the consumer (kafkajs's `Consumer` has these). */
export interface FetchControl {
  pause(topics: Array<{ topic: string; partitions?: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
  seek(position: { topic: string; partition: number; offset: string }): void;
}

interface Hold {
  topic: string;
  partition: number;
  timer: NodeJS.Timeout;
}

/**
 * Retry-topic records that are not due yet. A retry stage's record carries the time it may run
 * (`junction.retry.due-at`); one read early stops its partition: paused, and rewound to it so
 * that it is read again, until it falls due. Then the partition resumes — unless the fetch gate
 * says every partition must stay paused (an open breaker, a stop), in which case whoever resumes
 * them later leaves the held ones paused ({@link pauseHeld}).
 */
export class RetryDue {
  readonly #control: FetchControl;
  readonly #mayResume: () => boolean;
  readonly #now: () => number;
  readonly #held = new Map<string, Hold>();

  constructor(control: FetchControl, mayResume: () => boolean, now: () => number = Date.now) {
    this.#control = control;
    this.#mayResume = mayResume;
    this.#now = now;
  }

  /** Partitions waiting for a record to fall due. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether the partition waits for a record to fall due: nothing more of it is taken meanwhile. */
  isHeld(topic: string, partition: number): boolean {
    return this.#held.has(`${topic}\0${partition}`);
  }

  /**
   * False when the record at `offset` is due by `dueAt` (epoch ms): take it. True when it is
   * early: its partition is now paused and rewound to it, and resumes when it falls due.
   */
  holdIfEarly(topic: string, partition: number, offset: string, dueAt: number): boolean {
    const wait = dueAt - this.#now();
    if (wait <= 0) return false;
    const key = `${topic}\0${partition}`;
    clearTimeout(this.#held.get(key)?.timer);
    this.#control.pause([{ topic, partitions: [partition] }]);
    this.#control.seek({ topic, partition, offset });
    const timer = setTimeout(() => {
      this.#held.delete(key);
      if (this.#mayResume()) this.#control.resume([{ topic, partitions: [partition] }]);
    }, wait);
    this.#held.set(key, { topic, partition, timer });
    return true;
  }

  /** Pauses again the held partitions, after every partition was resumed. */
  pauseHeld(): void {
    for (const { topic, partition } of this.#held.values()) this.#control.pause([{ topic, partitions: [partition] }]);
  }

  /** Forgets every hold (a rebalance, a stop): the partitions' next owner reads them afresh. */
  clear(): void {
    for (const { timer } of this.#held.values()) clearTimeout(timer);
    this.#held.clear();
  }
}
