import type { ChildProcess } from 'node:child_process';
import { StackError } from '../errors.ts';
import { tailFile } from './logs.ts';
import type { ComponentRecord } from './state.ts';

const LOG_TAIL_LINES = 20;

/** Watches the processes this call started, so a crash ends the wait at once. */
export class Launches {
  readonly #exits = new Map<string, string>();

  add(component: ComponentRecord, child: ChildProcess): void {
    child.once('error', (error) => this.#exits.set(component.name, error.message));
    child.once('exit', (code, sig) => this.#exits.set(component.name, sig ? `killed by ${sig}` : `exited with code ${code}`));
    component.pid = child.pid;
    component.startedAt = new Date().toISOString();
  }

  async assertAlive(components: ComponentRecord[]): Promise<void> {
    for (const component of components) {
      const exit = this.#exits.get(component.name);
      if (exit === undefined) continue;
      const tail = await tailFile(component.logFile, LOG_TAIL_LINES);
      throw new StackError('component-exited', `${component.name} ${exit} while starting`, {
        hint: `read its log: ${component.logFile}`,
        logTail: tail,
      });
    }
  }
}

/** Options for {@link waitReady}. */
export interface WaitOptions {
  what: ComponentRecord;
  watch: ComponentRecord[];
  launches: Launches;
  deadline: number;
  probe: () => Promise<{ ok: boolean; error?: string }>;
}

/** Polls `probe` until it answers ok; fails at once when a watched process exits, or at the deadline with the log tail. */
export async function waitReady({ what, watch, launches, deadline, probe }: WaitOptions): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    await launches.assertAlive(watch);
    const result = await probe();
    if (result.ok) return;
    last = result.error ?? last;
    if (Date.now() > deadline) {
      throw new StackError('component-not-ready', `${what.name} did not become ready in time (last answer: ${last})`, {
        hint: `read its log: ${what.logFile}`,
        logTail: await tailFile(what.logFile, LOG_TAIL_LINES),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
