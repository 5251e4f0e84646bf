import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stopProcesses } from './internal/processes.ts';
import {
  type ComponentRecord,
  components,
  findStateDirs,
  isRunning,
  ownedProcess,
  readRecord,
  withStackLock,
  writeRecord,
} from './internal/state.ts';
import { resolveOptions } from './options.ts';

/** Options of {@link stopStack}. */
export interface StopOptions {
  stateDir?: string;
  /** Also delete every component's data and the record: the next start is a fresh stack. */
  purge?: boolean;
  /** How long each process gets to shut down cleanly before SIGKILL. Default 30 s. */
  graceMs?: number;
  /** Only these components (by name); default all. */
  only?: string[];
}

/**
 * Stops every process the stack in `stateDir` started (and no other), registry first, and
 * returns the names of the components that were running.
 */
export async function stopStack(options: StopOptions = {}): Promise<string[]> {
  const { stateDir } = resolveOptions({ ...(options.stateDir ? { stateDir: options.stateDir } : {}) });
  const graceMs = options.graceMs ?? 30_000;
  return withStackLock(stateDir, async () => {
    const record = await readRecord(stateDir);
    if (!record) return [];
    const chosen = (c: ComponentRecord) => options.only === undefined || options.only.includes(c.name);
    const running = components(record).filter((c) => chosen(c) && isRunning(c));
    const processes = (list: ComponentRecord[]) =>
      list
        .filter(chosen)
        .map(ownedProcess)
        .filter((p) => p !== undefined);
    // The registry first: it stores into Kafka and would log errors while Kafka goes away.
    await stopProcesses(processes(record.registry ? [record.registry] : []), graceMs);
    // Kafka, PostgreSQL, Redis and Prometheus need nothing of each other: they stop together.
    await stopProcesses(
      processes([
        ...record.kafka,
        ...(record.postgres ? [record.postgres] : []),
        ...(record.redis ? [record.redis] : []),
        ...(record.prometheus ? [record.prometheus] : []),
      ]),
      graceMs,
    );
    for (const component of components(record).filter(chosen)) {
      component.pid = undefined;
      component.startedAt = undefined;
    }
    if (options.purge && options.only === undefined) {
      for (const component of components(record)) await rm(component.dir, { recursive: true, force: true });
      // A cluster the server user could not keep in the state directory lives outside it.
      if (record.postgres?.dataHome) await rm(record.postgres.dataHome, { recursive: true, force: true });
      await rm(join(stateDir, 'secrets'), { recursive: true, force: true });
      await rm(join(stateDir, 'stack.json'), { force: true });
    } else {
      await writeRecord(stateDir, record);
    }
    return running.map((c) => c.name);
  });
}

/** Stops the stack in `root` and every test stack under it (`root/test-stacks/*`); for CI clean-up. */
export async function stopAllStacks(
  root: string,
  options: Pick<StopOptions, 'graceMs' | 'purge'> = {},
): Promise<Array<{ stateDir: string; stopped: string[] }>> {
  const results: Array<{ stateDir: string; stopped: string[] }> = [];
  for (const stateDir of await findStateDirs(root)) {
    results.push({ stateDir, stopped: await stopStack({ ...options, stateDir }) });
  }
  return results;
}
