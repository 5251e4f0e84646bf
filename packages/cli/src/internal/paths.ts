import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The repository root: `JUNCTION_HOME` (set by the ./junction wrapper), else the nearest
 * directory above the current one that holds pnpm-workspace.yaml.
 */
export function repositoryRoot(): string {
  if (process.env.JUNCTION_HOME) return resolve(process.env.JUNCTION_HOME);
  let dir = process.cwd();
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** The state directory of the main stack: `--state-dir`, `JUNCTION_STATE_DIR`, or `<root>/.junction`. */
export function stateDir(flag?: string): string {
  return resolve(flag ?? process.env.JUNCTION_STATE_DIR ?? join(repositoryRoot(), '.junction'));
}
