import { writeFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestModule, TestRunEndReason, Vitest } from 'vitest/node';
import type { RunSummary } from './summary.ts';

/** Messages are for one table row and a few lines under it, not for whole stack traces. */
const MAX_MESSAGE = 400;

function firstLine(error: unknown): string {
  const text =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : typeof error === 'object' && error !== null && 'message' in error
        ? String((error as { message: unknown }).message)
        : String(error);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/**
 * A vitest reporter that writes what `junction test` judges a run by into the file named by
 * `JUNCTION_TEST_SUMMARY`: the tests by state, the files that failed before any test ran, the
 * unhandled errors, and the errors that stopped the run before it began (a global setup that
 * threw). Vitest's JSON report holds none of the last two: its `success` is true after an
 * uncaught exception, and a failed global setup leaves it with no test and no error at all.
 */
export default class SummaryReporter implements Reporter {
  private run: RunRecord = { reason: 'failed', modules: [], unhandled: [] };
  private readonly startErrors: string[] = [];

  onInit(vitest: Vitest): void {
    // A global setup that throws reaches no reporter hook with its error: the run ends with no
    // test (onTestRunEnd), then vitest hands the error to its logger (reportStartError) and
    // exits 1. So the logger is where it is caught. The unhandled errors of a running test pass
    // through it too, and are known already from onTestRunEnd: they are not counted twice.
    const logger = vitest.logger;
    const printError = logger.printError.bind(logger);
    logger.printError = (error, options) => {
      if (options?.type === 'Unhandled Error') {
        const message = firstLine(error);
        if (!this.run.unhandled.some((known) => firstLine(known) === message)) {
          this.startErrors.push(message);
          this.write();
        }
      }
      printError(error, options);
    };
    // Written once at once: a vitest that stops before its run ends still leaves a summary.
    this.write();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    this.run = { reason, modules: testModules, unhandled: unhandledErrors };
    this.write();
  }

  private write(): void {
    const file = process.env.JUNCTION_TEST_SUMMARY;
    if (!file) return;
    const summary: RunSummary = {
      reason: this.run.reason,
      passed: 0,
      failed: 0,
      skipped: 0,
      brokenFiles: [],
      unhandledErrors: this.run.unhandled.map((error) => ({
        type: typeof error.type === 'string' ? error.type : 'Unhandled Error',
        message: firstLine(error),
      })),
      startErrors: [...this.startErrors],
    };
    for (const module of this.run.modules) {
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests += 1;
        const state = test.result().state;
        if (state === 'passed') summary.passed += 1;
        else if (state === 'failed') summary.failed += 1;
        // Skipped, todo, or never finished: a test that did not pass and did not fail.
        else summary.skipped += 1;
      }
      const errors = module.errors();
      if (errors.length > 0 && (tests === 0 || module.state() === 'failed')) {
        summary.brokenFiles.push({ file: module.moduleId, message: firstLine(errors[0]) });
      }
    }
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  }
}

/** What the last onTestRunEnd reported. */
interface RunRecord {
  reason: TestRunEndReason;
  modules: ReadonlyArray<TestModule>;
  unhandled: ReadonlyArray<SerializedError>;
}
