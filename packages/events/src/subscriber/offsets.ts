/**
 * Which offsets of one partition may be committed. Records finish out of order (key mode runs
 * different keys at once), but a committed offset means "everything below is done": so the
 * commit point is the lowest unfinished offset, or one past the highest finished when none is
 * unfinished. Offsets are bigints in kafkajs strings; numbers are exact up to 2^53, far beyond
 * any partition's life.
 */
export class PartitionOffsets {
  /** Offsets handed to handlers and not finished yet. */
  readonly #unfinished = new Set<number>();
  /** The lowest of `#unfinished`, kept up to date lazily. */
  #lowest: number | undefined;
  /** One past the highest offset accepted so far. */
  #next: number | undefined;
  /** The last commit point sent to Kafka. */
  #committed: number | undefined;

  /** A record was taken on; it is unfinished until {@link finish}. */
  start(offset: number): void {
    this.#unfinished.add(offset);
    if (this.#lowest === undefined || offset < this.#lowest) this.#lowest = offset;
    if (this.#next === undefined || offset + 1 > this.#next) this.#next = offset + 1;
  }

  /** A record is done (handled, dead-lettered, forwarded to a retry topic, or skipped). */
  finish(offset: number): void {
    this.#unfinished.delete(offset);
    if (offset === this.#lowest) this.#lowest = this.#unfinished.size ? Math.min(...this.#unfinished) : undefined;
  }

  /** Records taken on and not finished. */
  get pending(): number {
    return this.#unfinished.size;
  }

  /** The offset to commit (the next record to read after a restart), or undefined when nothing new may be committed. */
  commitPoint(): number | undefined {
    const point = this.#lowest ?? this.#next;
    if (point === undefined || point === this.#committed) return undefined;
    return point;
  }

  /** Kafka took the commit of `point`. */
  committed(point: number): void {
    this.#committed = point;
  }
}
