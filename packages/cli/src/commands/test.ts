import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAllStacks } from '@junction/stack';
import { Command } from 'commander';
import { integer } from '../internal/args.ts';
import { style, table } from '../internal/output.ts';
import { repositoryRoot, stateDir } from '../internal/paths.ts';

/** One step of the suite and what it found. */
interface StepResult {
  name: string;
  passed: number;
  failed: number;
  detail: string;
  ms: number;
}

/** The parts of vitest's JSON report that the summary reads. */
interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ name: string; status: string; assertionResults: unknown[] }>;
}

interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** Runs a tool with the terminal attached; resolves with its exit code (null when killed). */
function runAttached(command: string, args: string[], options: RunOptions): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'inherit' });
    const timer = setTimeout(() => {
      process.stderr.write(`\njunction: ${args[0]} ran past ${Math.round(options.timeoutMs / 60_000)} minutes; stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, options.timeoutMs);
    child.once('error', () => resolve(null));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const elapsed = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

async function check(name: string, command: string, args: string[], options: RunOptions): Promise<StepResult> {
  process.stderr.write(`\n${style('bold', `▶ ${name}`)}\n`);
  const started = Date.now();
  const code = await runAttached(command, args, options);
  const ms = Date.now() - started;
  return code === 0
    ? { name, passed: 1, failed: 0, detail: 'clean', ms }
    : { name, passed: 0, failed: 1, detail: code === null ? 'did not finish' : `exit ${code}`, ms };
}

/** Flags of `junction test`. */
interface TestFlags {
  unit?: boolean;
  lint: boolean;
  typecheck: boolean;
  testNamePattern?: string;
  timeoutMinutes: number;
}

/** `junction test`: lint, type check and every test, ending with `N passed, N failed`. */
export function testCommand(): Command {
  return new Command('test')
    .description('run the whole suite: lint, type check, unit tests and the tests against a real Kafka and registry')
    .argument('[filters...]', 'only test files whose path contains one of these')
    .option('--unit', 'only unit tests (*.test.ts), no stack')
    .option('--no-lint', 'skip the linter')
    .option('--no-typecheck', 'skip the type check')
    .option('-t, --test-name-pattern <regex>', 'only tests whose name matches')
    .option('--timeout-minutes <n>', 'stop the test run after this long', integer(1, 240), 25)
    .addHelpText('after', '\nSkipped tests count as failures: a test that cannot run must say so by failing.')
    .action(async (filters: string[], flags: TestFlags) => {
      const root = repositoryRoot();
      const node = process.execPath;
      const timeoutMs = flags.timeoutMinutes * 60_000;
      const steps: StepResult[] = [];
      if (flags.lint)
        steps.push(
          await check('lint', node, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '.'], { cwd: root, timeoutMs }),
        );
      if (flags.typecheck) {
        steps.push(
          await check('typecheck', node, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'], {
            cwd: root,
            timeoutMs,
          }),
        );
      }

      const testStacks = join(stateDir(), 'test-stacks');
      const scratch = await mkdtemp(join(tmpdir(), 'junction-test-'));
      const reportFile = join(scratch, 'vitest.json');
      const args = [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${reportFile}`,
        ...filters,
      ];
      if (flags.unit) args.push('--exclude', '**/*.int.test.ts', '--exclude', 'test/**');
      if (flags.testNamePattern) args.push('--testNamePattern', flags.testNamePattern);
      process.stderr.write(`\n${style('bold', '▶ tests')}\n`);
      const started = Date.now();
      const env = { ...process.env, JUNCTION_TEST_STACKS: testStacks, ...(flags.unit ? { JUNCTION_TEST_STACK: 'off' } : {}) };
      const code = await runAttached(node, args, { cwd: root, env, timeoutMs });
      const ms = Date.now() - started;
      // Whatever happened to vitest, no test stack outlives the run.
      await stopAllStacks(testStacks, { graceMs: 10_000, purge: true }).catch(() => []);
      const report = (await readFile(reportFile, 'utf8').then(JSON.parse, () => undefined)) as VitestReport | undefined;
      await rm(scratch, { recursive: true, force: true });
      if (report) {
        const skipped = report.numPendingTests + report.numTodoTests;
        // A file that failed before any of its tests ran (an import error, a failing hook).
        const brokenFiles = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
        steps.push({
          name: 'tests',
          passed: report.numPassedTests,
          failed: report.numFailedTests + skipped + brokenFiles,
          detail: `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped, ${brokenFiles} file(s) failed to run`,
          ms,
        });
      } else {
        steps.push({
          name: 'tests',
          passed: 0,
          failed: 1,
          detail: `vitest ended (${code === null ? 'killed' : `exit ${code}`}) without a report`,
          ms,
        });
      }

      const passed = steps.reduce((sum, s) => sum + s.passed, 0);
      const failed = steps.reduce((sum, s) => sum + s.failed, 0);
      console.log(
        `\n${table(
          ['STEP', 'RESULT', 'DETAIL', 'TIME'],
          steps.map((s) => [s.name, s.failed === 0 ? style('green', 'passed') : style('red', 'failed'), s.detail, elapsed(s.ms)]),
        )}\n`,
      );
      console.log(`${passed} passed, ${failed} failed`);
      process.exitCode = failed === 0 ? 0 : 1;
    });
}
