import { join, resolve } from 'node:path';
import { stopAllStacks } from '@junction/stack';
import { Command, InvalidArgumentError, Option } from 'commander';
import { integer } from '../internal/args.ts';
import { style, table } from '../internal/output.ts';
import { repositoryRoot, stateDir } from '../internal/paths.ts';
import { type AttachedOptions, runAttached } from '../internal/test-run/attached.ts';
import { CONFORMANCE, conformanceFiles } from '../internal/test-run/conformance.ts';
import { runVitest } from '../internal/test-run/vitest.ts';

/** One step of the suite and what it found. */
interface StepResult {
  name: string;
  passed: number;
  failed: number;
  detail: string;
  ms: number;
}

const elapsed = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

async function check(name: string, command: string, args: string[], options: AttachedOptions): Promise<StepResult> {
  process.stderr.write(`\n${style('bold', `▶ ${name}`)}\n`);
  const started = Date.now();
  const { code, timedOut } = await runAttached(command, args, options);
  const ms = Date.now() - started;
  return code === 0
    ? { name, passed: 1, failed: 0, detail: 'clean', ms }
    : { name, passed: 0, failed: 1, detail: timedOut ? 'ran past its time' : code === null ? 'did not finish' : `exit ${code}`, ms };
}

/** Flags of `junction test`. */
interface TestFlags {
  unit?: boolean;
  conformance?: boolean;
  lint: boolean;
  typecheck: boolean;
  testNamePattern?: string;
  timeoutMinutes: number;
  root?: string;
}

/** `junction test`: lint, type check and every test, ending with `N passed, N failed`. */
export function testCommand(): Command {
  return (
    new Command('test')
      .description('run the whole suite: lint, type check, unit tests and the tests against a real Kafka and registry')
      .argument('[filters...]', 'only test files whose path contains one of these')
      .option('--unit', 'only unit tests (*.test.ts), no stack')
      .option(
        '--conformance',
        "only the transport's conformance set: what Junction's guarantees ask of the Kafka client, against the real stack",
      )
      .option('--no-lint', 'skip the linter')
      .option('--no-typecheck', 'skip the type check')
      .option('-t, --test-name-pattern <regex>', 'only tests whose name matches')
      .option('--timeout-minutes <n>', 'stop the test run after this long', integer(1, 240), 25)
      // Runs the vitest project of another directory (its own vitest.config.ts): Junction's tests
      // prove the verdicts on small fixture projects through it.
      .addOption(
        new Option('--root <dir>', 'the vitest project to run (default: the repository)').argParser((dir) => resolve(dir)).hideHelp(),
      )
      .addHelpText('after', '\nSkipped tests count as failures: a test that cannot run must say so by failing.')
      .action(async (given: string[], flags: TestFlags) => {
        if (flags.conformance && (given.length > 0 || flags.unit)) {
          throw new InvalidArgumentError('--conformance runs its own set of files: give it no filters and no --unit');
        }
        const filters = flags.conformance ? conformanceFiles() : given;
        if (flags.conformance) {
          console.log(
            `The transport's conformance set:\n${table(
              ['TESTS', 'PROPERTY'],
              CONFORMANCE.map((entry) => [entry.files.join(', '), entry.property]),
            )}\n`,
          );
        }
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
        const extraArgs: string[] = [];
        if (flags.unit) extraArgs.push('--exclude', '**/*.int.test.ts', '--exclude', 'test/**');
        if (flags.testNamePattern) extraArgs.push('--testNamePattern', flags.testNamePattern);
        process.stderr.write(`\n${style('bold', '▶ tests')}\n`);
        const env = { ...process.env, JUNCTION_TEST_STACKS: testStacks, ...(flags.unit ? { JUNCTION_TEST_STACK: 'off' } : {}) };
        const run = await runVitest({ root, cwd: flags.root ?? root, filters, extraArgs, env, timeoutMs });
        // Whatever happened to vitest, no test stack outlives the run.
        await stopAllStacks(testStacks, { graceMs: 10_000, purge: true }).catch(() => []);
        const { verdict } = run;
        steps.push({
          name: 'tests',
          passed: verdict.passed,
          failed: verdict.failed,
          detail: verdict.causes[0] ?? `${verdict.passed} passed`,
          ms: run.ms,
        });

        const passed = steps.reduce((sum, s) => sum + s.passed, 0);
        const failed = steps.reduce((sum, s) => sum + s.failed, 0);
        console.log(
          `\n${table(
            ['STEP', 'RESULT', 'DETAIL', 'TIME'],
            steps.map((s) => [s.name, s.failed === 0 ? style('green', 'passed') : style('red', 'failed'), s.detail, elapsed(s.ms)]),
          )}\n`,
        );
        const causes = verdict.causes.slice(1);
        if (causes.length > 0) console.log(`${causes.map((cause) => style('red', `  also: ${cause}`)).join('\n')}\n`);
        console.log(`${passed} passed, ${failed} failed`);
        process.exitCode = failed === 0 ? 0 : 1;
      })
  );
}
