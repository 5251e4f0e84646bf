/**
 * Which offsets of one partition may be committed. Records finish out of order (key mode runs
 * different keys at once), but a committed offset means "everything below is done": so the
 * commit point is the lowest unfinished offset, or one past the highest taken on when none is
 * unfinished. Offsets are taken on in increasing order, so they wait in a queue, and finishing
 * the oldest advances past every finished one behind it: constant time per record, on average.
 * (Offsets are exact as numbers up to 2^53, far beyond any partition's life.)
 */
export class PartitionOffsets {
  /** Offsets taken on, in order; those before `#head` are finished. */
  #order: number[] = [];
  /** Record timestamps, beside `#order`: the age of the oldest unfinished record is consumer lag in seconds. */
  #times: number[] = [];
  #head = 0;
  /** Finished offsets not yet passed by `#head`. */
  readonly #done = new Set<number>();
  /** One past the highest offset taken on. */
  #next: number | undefined;
  /** The last commit point sent to Kafka. */
  #committed: number | undefined;

  /** A record was taken on; it is unfinished until {@link finish}. */
  start(offset: number, timestamp = 0): void {
    this.#order.push(offset);
    this.#times.push(timestamp);
    // Never back: a record fetched again after a seek is one taken on before.
    this.#next = Math.max(this.#next ?? 0, offset + 1);
  }

  /** A record is done (handled, dead-lettered, forwarded to a retry topic, or skipped). */
  finish(offset: number): void {
    if (this.#order[this.#head] !== offset) {
      // Out of order (key mode): it waits until every record before it is finished.
      this.#done.add(offset);
      return;
    }
    // The oldest (partition order finishes each so): past it, and past those that finished before it.
    this.#head += 1;
    while (this.#done.delete(this.#order[this.#head] as number)) this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Offsets held in memory: the unfinished ones and the finished ones not yet dropped (at most about twice the unfinished, plus 1,024). */
  get retained(): number {
    return this.#order.length;
  }

  /** Records taken on and not finished. */
  get pending(): number {
    return this.#order.length - this.#head - this.#done.size;
  }

  /** The next record not finished: the lowest unfinished offset, or one past the highest taken on; undefined before any. */
  get position(): number | undefined {
    return this.#head < this.#order.length ? this.#order[this.#head] : this.#next;
  }

  /** The timestamp of the oldest unfinished record; undefined when every record taken on is finished. */
  get oldestPendingTimestamp(): number | undefined {
    // Past the last one taken on there is none: undefined.
    return this.#times[this.#head];
  }

  /** The offset to commit (the next record to read after a restart), or undefined when nothing new may be committed. */
  commitPoint(): number | undefined {
    const point = this.position;
    return point === this.#committed ? undefined : point;
  }

  /** Kafka took the commit of `point`. */
  committed(point: number): void {
    this.#committed = point;
  }
}
