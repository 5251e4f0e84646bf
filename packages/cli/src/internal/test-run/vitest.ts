import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAttached } from './attached.ts';
import { judgeRun, type RunSummary, type Verdict } from './summary.ts';

/**
 * The summary reporter, in the form this module runs in: `.ts` when the CLI runs from its
 * sources (tests), `.js` from its build. Vitest loads either.
 */
const REPORTER = fileURLToPath(new URL(`./reporter${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Options of {@link runVitest}. */
export interface VitestRunOptions {
  /** The repository whose node_modules holds vitest. */
  root: string;
  /** The project to run: where vitest finds its config. */
  cwd: string;
  /** Filters (paths) and further vitest arguments. */
  filters: string[];
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** `inherit` shows vitest's own output (the default); `ignore` keeps it quiet (tests of this module). */
  output?: 'inherit' | 'ignore';
}

/** A finished vitest run and its verdict. */
export interface VitestRun {
  verdict: Verdict;
  ms: number;
}

/**
 * Runs `vitest run` with its default reporter for people and the summary reporter for the
 * verdict, then judges the run (see {@link judgeRun}) from both the summary and the exit code.
 */
export async function runVitest(options: VitestRunOptions): Promise<VitestRun> {
  const scratch = await mkdtemp(join(tmpdir(), 'junction-test-'));
  const summaryFile = join(scratch, 'summary.json');
  const args = [
    join(options.root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--reporter=default',
    `--reporter=${REPORTER}`,
    ...options.filters,
    ...(options.extraArgs ?? []),
  ];
  const started = Date.now();
  try {
    const ending = await runAttached(process.execPath, args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), JUNCTION_TEST_SUMMARY: summaryFile },
      timeoutMs: options.timeoutMs,
      ...(options.output ? { output: options.output } : {}),
    });
    const summary = (await readFile(summaryFile, 'utf8').then(JSON.parse, () => undefined)) as RunSummary | undefined;
    return { verdict: judgeRun(summary, { ...ending, filters: options.filters }), ms: Date.now() - started };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
