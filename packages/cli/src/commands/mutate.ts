import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { integer } from '../internal/args.ts';
import { style } from '../internal/output.ts';
import { repositoryRoot } from '../internal/paths.ts';
import { runAttached } from '../internal/test-run/attached.ts';

/** Where the mutation run is configured: the files it plants faults in, and the score it needs. */
const CONFIG = 'test/mutation/stryker.config.mjs';

/** Flags of `junction mutate`. */
interface MutateFlags {
  timeoutMinutes: number;
}

/**
 * `junction mutate`: StrykerJS plants small faults (a `<` for a `<=`, a dropped call) in the
 * subscriber's parts, the circuit and the rate-limit bucket, one at a time, and runs their unit
 * tests against each; a fault no test notices is a test missing. Minutes per file, so not part
 * of `junction test`.
 */
export function mutateCommand(): Command {
  return new Command('mutate')
    .description(
      "plant small faults in the subscriber's parts, the circuit and the rate-limit bucket (StrykerJS), and count those the unit tests catch",
    )
    .argument('[files...]', `only these source files (default: every file ${CONFIG} names)`)
    .option('--timeout-minutes <n>', 'stop the run after this long', integer(1, 240), 60)
    .addHelpText(
      'after',
      '\nPrints a table per file (killed, survived, timed out, not covered) and each surviving fault as a diff;\nexits 1 under a mutation score of 85%. The full report: .junction/mutation/report.html.',
    )
    .action(async (files: string[], flags: MutateFlags) => {
      const root = repositoryRoot();
      const chosen = files.map((file) => relative(root, resolve(file)));
      const missing = chosen.filter((file) => !existsSync(join(root, file)));
      if (missing.length) {
        throw new Error(
          `no such source file: ${missing.join(', ')} → give paths from the repository root, e.g. packages/events/src/subscriber/lanes.ts (the default set is in ${CONFIG})`,
        );
      }
      const args = [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', CONFIG];
      if (chosen.length) args.push('--mutate', chosen.join(','));
      const { code, timedOut } = await runAttached(process.execPath, args, {
        cwd: root,
        // Unit tests only: nothing starts a stack.
        env: { ...process.env, JUNCTION_TEST_STACK: 'off' },
        timeoutMs: flags.timeoutMinutes * 60_000,
      });
      if (code !== 0) {
        const why = timedOut ? `ran past ${flags.timeoutMinutes} minutes` : 'ended under 85%, or could not run (see above)';
        process.stderr.write(
          `${style('red', `junction: the mutation run ${why}`)} → each surviving fault above is a test missing; the report: .junction/mutation/report.html\n`,
        );
        process.exitCode = 1;
      }
    });
}
