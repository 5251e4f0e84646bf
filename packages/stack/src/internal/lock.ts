import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import { isAlive } from './processes.ts';

/** Options for {@link withLock}. */
export interface LockOptions {
  /** How long to wait for another holder before giving up. */
  timeoutMs: number;
  /** What the lock guards, for the error message. */
  what: string;
}

/**
 * Runs `fn` while holding a directory lock at `path`. `mkdir` is atomic, so two processes
 * (two `junction stack up`, or two test workers fetching Kafka) never both enter. A lock
 * whose holder died is taken over.
 */
export async function withLock<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      await mkdir(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(join(path, 'pid'), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && !isAlive(holder)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new StackError('locked', `${options.what} is busy: another process (pid ${holder || 'unknown'}) holds ${path}`, {
        hint: 'wait for it to finish; if no such process runs, remove that directory',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    await writeFile(join(path, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}
