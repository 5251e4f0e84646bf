/**
 * Work in lanes: each lane runs its items one at a time, in order; different lanes run at once,
 * at most `limit` together. A lane is a partition (`partition` ordering) or a key within a
 * partition (`key` ordering), so order holds where it must and nowhere else.
 */
export class Lanes<T> {
  readonly #limit: number;
  readonly #run: (item: T) => Promise<void>;
  readonly #lanes = new Map<string, T[]>();
  /** Lanes with work and no slot yet, in the order they asked. */
  readonly #ready: string[] = [];
  readonly #running = new Set<string>();
  #size = 0;
  #idle: Array<() => void> = [];

  constructor(limit: number, run: (item: T) => Promise<void>) {
    this.#limit = limit;
    this.#run = run;
  }

  /** Items queued or running. */
  get size(): number {
    return this.#size;
  }

  /** Lanes holding items, queued or running: a lane is let go of once it runs empty, so key mode holds the keys in flight, not every key seen. */
  get lanes(): number {
    return this.#lanes.size;
  }

  /** Queues `item` at the end of `lane`. */
  push(lane: string, item: T): void {
    let queue = this.#lanes.get(lane);
    if (!queue) {
      queue = [];
      this.#lanes.set(lane, queue);
    }
    queue.push(item);
    this.#size += 1;
    if (!this.#running.has(lane) && queue.length === 1) this.#ready.push(lane);
    this.#fill();
  }

  /** Removes the queued (not running) items `drop` selects, and returns them. */
  remove(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [lane, queue] of this.#lanes) {
      // The head of a running lane is the item running: it stays.
      const start = this.#running.has(lane) ? 1 : 0;
      for (let i = queue.length - 1; i >= start; i -= 1) {
        if (drop(queue[i] as T)) removed.push(...queue.splice(i, 1));
      }
      // Emptied, so not running: it waits in the line, and leaves it too (pushed to again, it
      // lines up anew; left in the line as well, it would be drained twice at once).
      if (!queue.length) {
        this.#lanes.delete(lane);
        this.#ready.splice(this.#ready.indexOf(lane), 1);
      }
    }
    // Not idle now, if it was not before: a queued item waits for a running lane, which stays.
    this.#size -= removed.length;
    return removed;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #fill(): void {
    while (this.#running.size < this.#limit && this.#ready.length) {
      const lane = this.#ready.shift() as string;
      this.#running.add(lane);
      void this.#drain(lane);
    }
  }

  async #drain(lane: string): Promise<void> {
    // A lane in the line has its queue, and keeps it while it runs (remove() leaves a running head).
    const queue = this.#lanes.get(lane) as T[];
    for (;;) {
      const item = queue[0];
      if (item === undefined) break;
      try {
        await this.#run(item);
      } finally {
        queue.shift();
        this.#size -= 1;
      }
      // Give other lanes their turn when slots are scarce: go to the back of the line.
      if (queue.length && this.#ready.length) {
        this.#ready.push(lane);
        break;
      }
    }
    if (!queue.length) this.#lanes.delete(lane);
    this.#running.delete(lane);
    this.#fill();
    this.#settleIdle();
  }

  #settleIdle(): void {
    if (this.#size !== 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
