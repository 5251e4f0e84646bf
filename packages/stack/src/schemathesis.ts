import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { withLock } from './internal/lock.ts';
import { lastLines, runTool, which } from './internal/tools.ts';
import { defaultCacheDir } from './options.ts';
import { SCHEMATHESIS_VERSION } from './versions.ts';

/** Options of {@link schemathesisCommand}. */
export interface SchemathesisOptions {
  /** Default `$JUNCTION_CACHE_DIR` or `~/.cache/junction`. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Told about the one slow step: the first install. */
  progress?: (message: string) => void;
}

const INSTALL_TIMEOUT_MS = 10 * 60_000;
const COMPLETE = '.complete';

/**
 * The `st` command of schemathesis {@link SCHEMATHESIS_VERSION}, installed from PyPI on first use
 * into a virtual environment of the Junction cache (`schemathesis-<version>/`), never into the
 * machine's Python. A virtual environment cannot be moved (its scripts name their own path), so
 * it is built in place under a lock and marked complete last: an install killed halfway is
 * started over, and concurrent callers wait for the first.
 */
export async function schemathesisCommand(options: SchemathesisOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const home = join(options.cacheDir ?? defaultCacheDir(env), `schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = join(home, 'bin', 'st');
  if (existsSync(join(home, COMPLETE))) return st;
  await mkdir(join(home, '..'), { recursive: true });
  await withLock(`${home}.lock`, { timeoutMs: INSTALL_TIMEOUT_MS, what: `the schemathesis ${SCHEMATHESIS_VERSION} install` }, async () => {
    if (existsSync(join(home, COMPLETE))) return;
    const python = which('python3', env);
    if (!python)
      throw new StackError('download-failed', `python3 is missing: schemathesis ${SCHEMATHESIS_VERSION} is installed from PyPI with it`, {
        hint: 'install python3 with its venv module (Debian: apt-get install -y python3-venv)',
      });
    options.progress?.(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${home} (first run only)…`);
    await rm(home, { recursive: true, force: true });
    const venv = await runTool(python, ['-m', 'venv', home], { timeoutMs: 2 * 60_000, env });
    if (venv.code !== 0)
      throw new StackError(
        'download-failed',
        `could not create a Python virtual environment in ${home}: ${lastLines(venv.stderr, 1)[0] ?? 'venv failed'}`,
        {
          hint: 'install the venv module (Debian: apt-get install -y python3-venv), then run again',
        },
      );
    const pip = await runTool(
      join(home, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
      { timeoutMs: INSTALL_TIMEOUT_MS, env },
    );
    if (pip.code !== 0 || !existsSync(st)) {
      const reason = pip.timedOut
        ? `no answer within ${INSTALL_TIMEOUT_MS / 60_000} minutes`
        : (lastLines(pip.stderr, 1)[0] ?? 'pip failed');
      throw new StackError('download-failed', `install of schemathesis ${SCHEMATHESIS_VERSION} from PyPI failed: ${reason}`, {
        hint: 'check network access to PyPI (or the index in pip.conf / PIP_INDEX_URL), then run again',
        logTail: lastLines(`${pip.stdout}\n${pip.stderr}`, 10),
      });
    }
    await writeFile(join(home, COMPLETE), new Date().toISOString());
  });
  return st;
}
