/**
 * This member's place in its consumer group: the partitions it owns, and the generation of work
 * it holds. Partitions may move at every rebalance; then the work held so far is given up
 * (`revoke`): queued work is dropped (whoever owns the partition next reads it again from the
 * last commit), running work finishes but commits nothing, and tracking starts afresh.
 *
 * kafkajs says "rebalancing" only on some paths, so every join after the first gives the work up
 * too. It also rejoins a few times right after it starts, with the same assignment: the work is
 * given up all the same (fetching restarts from the commit), but only a changed assignment counts
 * as a rebalance.
 */
export class Membership {
  readonly #revoke: () => void;
  #generation = 0;
  #rebalances = 0;
  #assignment: string | undefined;
  #owned = new Map<string, number[]>();

  constructor(revoke: () => void) {
    this.#revoke = revoke;
  }

  /** Bumped each time the work held is given up; work of an older one commits nothing. */
  get generation(): number {
    return this.#generation;
  }

  /** Rebalances that changed this member's partitions. */
  get rebalances(): number {
    return this.#rebalances;
  }

  /** The partitions this member owns, by topic, from its last join. */
  get owned(): ReadonlyMap<string, number[]> {
    return this.#owned;
  }

  /** Whether work taken in `generation` still owns its partition. */
  isCurrent(generation: number): boolean {
    return generation === this.#generation;
  }

  /** The group rebalances: the work held so far is given up. */
  rebalancing(): void {
    this.#generation += 1;
    this.#revoke();
  }

  /** The member joined the group with `assignment`; returns whether its partitions changed. */
  joined(assignment: Record<string, number[]>): boolean {
    const joined = JSON.stringify(assignment);
    const first = this.#assignment === undefined;
    const changed = !first && joined !== this.#assignment;
    if (changed) this.#rebalances += 1;
    if (!first) this.rebalancing();
    this.#assignment = joined;
    this.#owned = new Map(Object.entries(assignment));
    return changed;
  }
}
