/** One armed deadline of {@link Deadlines}. */
export interface Deadline {
  /** When it expires, on the clock of its {@link Deadlines}. */
  readonly at: number;
}

interface Entry extends Deadline {
  /** Called when it expires; undefined once disarmed or fired. */
  fire: (() => void) | undefined;
}

/**
 * Deadlines of one fixed length, for one thing each (a handler call): all of them on one timer.
 * A timer each would cost a `Timeout`, a list insertion and its removal for every record; here
 * arming is a push and disarming a write. Deadlines of one length armed in time order expire in
 * that order, so they wait in a queue and the timer is set for the oldest armed one.
 *
 * Disarmed entries leave the queue from its front, or in one sweep once they outnumber the
 * armed ones, so it holds at most about twice the armed deadlines (plus 1,024) however long one
 * of them waits.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #now: () => number;
  #queue: Entry[] = [];
  #head = 0;
  #armed = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires; Infinity when none is set. */
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(ms: number, now: () => number = () => performance.now()) {
    this.#ms = ms;
    this.#now = now;
  }

  /** Deadlines armed and neither fired nor disarmed. */
  get armed(): number {
    return this.#armed;
  }

  /** Entries held, disarmed ones not yet swept included. */
  get held(): number {
    return this.#queue.length - this.#head;
  }

  /** Calls `fire` once `ms` from now, unless {@link disarm}ed first. */
  arm(fire: () => void): Deadline {
    const entry: Entry = { at: this.#now() + this.#ms, fire };
    this.#queue.push(entry);
    this.#armed += 1;
    if (this.#timer === undefined) this.#schedule(entry.at);
    return entry;
  }

  /** Cancels `deadline`; nothing when it fired or was disarmed already. */
  disarm(deadline: Deadline): void {
    const entry = deadline as Entry;
    if (entry.fire === undefined) return;
    entry.fire = undefined;
    this.#armed -= 1;
    this.#sweep();
  }

  /** Drops disarmed entries from the front, and all of them once they outnumber the armed ones. */
  #sweep(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]?.fire === undefined) this.#head += 1;
    const held = queue.length - this.#head;
    if (this.#armed === 0) {
      this.#queue = [];
      this.#head = 0;
      this.#stopTimer();
    } else if (held > 1024 && held > 2 * this.#armed) {
      this.#queue = queue.slice(this.#head).filter((entry) => entry.fire !== undefined);
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #schedule(at: number): void {
    this.#stopTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(at - this.#now())));
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head] as Entry;
      if (entry.fire !== undefined && entry.at > now) break;
      this.#head += 1;
      const { fire } = entry;
      if (fire === undefined) continue;
      entry.fire = undefined;
      this.#armed -= 1;
      fire();
    }
    // What `fire` did (disarming others, arming new ones) is in the queue now: the timer follows its front.
    this.#sweep();
    const next = this.#queue[this.#head];
    if (next !== undefined && next.at < this.#timerAt) this.#schedule(next.at);
  }
}
