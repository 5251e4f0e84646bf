/** What the summary reporter (reporter.ts) writes about one vitest run. */
export interface RunSummary {
  /** Vitest's own word on the run: `passed`, `failed` or `interrupted`. */
  reason: string;
  passed: number;
  failed: number;
  /** Skipped, todo, or never finished: each counts as a failure in `junction test`. */
  skipped: number;
  /** Files that failed outside their tests: an import error, a failing hook. */
  brokenFiles: Array<{ file: string; message: string }>;
  /** Errors thrown outside any test while the run went on (a timer that threw, a rejection nobody awaited). */
  unhandledErrors: Array<{ type: string; message: string }>;
  /** Errors that stopped the run before tests ran: a global setup that threw. */
  startErrors: string[];
}

/** How a vitest process ended. */
export interface RunEnding {
  /** Its exit code; null when it was killed. */
  code: number | null;
  /** True when it was stopped for running past its time. */
  timedOut: boolean;
  /** Filters the run was given: with them, a run of no test says which matched nothing. */
  filters: string[];
}

/** The verdict on a run: the counts for the closing line, and why it failed, one cause a line. */
export interface Verdict {
  passed: number;
  failed: number;
  /** Empty when the run passed. */
  causes: string[];
}

/**
 * Judges a vitest run. A run fails when any test failed or was skipped, when a file failed
 * outside its tests, when an error was thrown outside any test, when the run stopped before it
 * began, when no test ran at all, or when vitest exited non-zero for a reason none of these name.
 * Each cause adds at least one to the failed count, so a failed run can never close on
 * `N passed, 0 failed`.
 */
export function judgeRun(summary: RunSummary | undefined, ending: RunEnding): Verdict {
  const causes: string[] = [];
  let failed = 0;
  const fail = (count: number, cause: string) => {
    failed += count;
    causes.push(cause);
  };
  if (ending.timedOut) fail(1, 'stopped: it ran past its time (--timeout-minutes)');
  if (!summary) {
    fail(1, `vitest exited ${ending.code ?? '(killed)'} before it reported anything; its output above says why`);
    return { passed: 0, failed, causes };
  }
  for (const message of summary.startErrors) fail(1, `the run could not start: ${message}`);
  if (summary.failed > 0) fail(summary.failed, `${summary.failed} test(s) failed`);
  if (summary.skipped > 0) fail(summary.skipped, `${summary.skipped} test(s) skipped (a test that cannot run must fail instead)`);
  if (summary.brokenFiles.length > 0) {
    const [first] = summary.brokenFiles;
    fail(
      summary.brokenFiles.length,
      `${summary.brokenFiles.length} file(s) failed outside their tests, first ${first?.file}: ${first?.message}`,
    );
  }
  if (summary.unhandledErrors.length > 0) {
    const [first] = summary.unhandledErrors;
    fail(
      summary.unhandledErrors.length,
      `${summary.unhandledErrors.length} error(s) outside any test, first ${first?.type}: ${first?.message}`,
    );
  }
  const ran = summary.passed + summary.failed;
  if (ran === 0 && summary.startErrors.length === 0) {
    fail(1, ending.filters.length > 0 ? `no test ran: nothing matched ${ending.filters.join(', ')}` : 'no test ran');
  }
  if (failed === 0 && ending.code !== 0)
    fail(1, `vitest exited ${ending.code ?? '(killed)'} though every test passed; its output above says why`);
  if (failed === 0 && summary.reason !== 'passed') fail(1, `vitest ended the run as ${summary.reason}`);
  return { passed: summary.passed, failed, causes };
}
