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
 * The timer keeps no process alive and, once set, runs to its time even when all were disarmed
 * meanwhile (arming again soon after is the common case), then sets none while nothing is armed.
 *
 * Disarmed entries stay in the queue until the timer passes them, or until they are more than
 * 1,024 and more than the armed ones: then the queue keeps only the armed ones. So it holds at
 * most twice the armed deadlines plus 1,024, however long one of them waits. The entries the
 * timer passed go once they are more than half the queue.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #now: () => number;
  #queue: Entry[] = [];
  /** Entries before it were fired or disarmed and passed by the timer. */
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

  /** Entries held: the armed ones, and those fired or disarmed that are not let go of yet. */
  get held(): number {
    return this.#queue.length;
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
    if (this.#armed === 0) {
      // Nothing left to time: no queue. The timer stays until its time and then sets no other:
      // a lane of one handler call at a time arms and disarms for every record, and stopping the
      // timer each time set one and cleared one per record (a tenth of a fast handler's cost).
      this.#queue = [];
      this.#head = 0;
      return;
    }
    const disarmed = this.#queue.length - this.#armed;
    if (disarmed > 1024 && disarmed > this.#armed) {
      // Those before the head were passed, so disarmed or fired: the filter drops them too.
      this.#queue = this.#queue.filter((each) => each.fire !== undefined);
      this.#head = 0;
    }
  }

  #schedule(at: number): void {
    // A timer set while another runs: one a deadline's `fire` armed, replaced by an earlier front.
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // Unreferenced: a deadline is only ever armed for a call in flight, which holds the process up by itself.
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(at - this.#now()))).unref();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    // Fires every armed entry that is due, and passes the disarmed ones before the first that is not.
    while (this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head] as Entry;
      if (entry.fire !== undefined && entry.at > now) break;
      this.#head += 1;
      const { fire } = entry;
      if (fire === undefined) continue;
      entry.fire = undefined;
      this.#armed -= 1;
      fire();
    }
    // The passed entries go once they are the larger part (the timer fires once per length at most).
    if (this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    // What `fire` did (disarming others, arming new ones) is in the queue now: the timer follows its front.
    const next = this.#queue[this.#head];
    if (next !== undefined && next.at < this.#timerAt) this.#schedule(next.at);
  }
}
