import { Command } from 'commander';
import { authCommand } from './commands/auth.ts';
import { benchCommand } from './commands/bench.ts';
import { dashboardsCommand } from './commands/dashboards.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { mutateCommand } from './commands/mutate.ts';
import { piiCommand } from './commands/pii.ts';
import { schemasCommand } from './commands/schemas.ts';
import { stackCommand } from './commands/stack.ts';
import { testCommand } from './commands/test.ts';
import { tokenCommand } from './commands/token.ts';
import { upCommand } from './commands/up.ts';
import { webhooksCommand } from './commands/webhooks.ts';
import { printError } from './internal/output.ts';

/** Applies the usage hint to a command and every command below it. */
function hintUsage(command: Command): Command {
  command.showHelpAfterError('(add --help for usage)');
  for (const sub of command.commands) hintUsage(sub);
  return command;
}

/** The `junction` command with every subcommand. */
export function createProgram(): Command {
  const program = new Command('junction')
    .description('Junction: an event-driven integration platform on Apache Kafka')
    .version('0.1.0')
    .addCommand(upCommand())
    .addCommand(stackCommand())
    .addCommand(schemasCommand())
    .addCommand(demoCommand())
    .addCommand(testCommand())
    .addCommand(mutateCommand())
    .addCommand(benchCommand())
    .addCommand(dlqCommand())
    .addCommand(dashboardsCommand())
    .addCommand(tokenCommand())
    .addCommand(authCommand())
    .addCommand(piiCommand())
    .addCommand(webhooksCommand())
    .addHelpText('after', '\nStart with `./junction up`; `./junction <command> --help` tells more about each command.');
  return hintUsage(program);
}

/** Runs the CLI on `argv`; returns the exit code. Errors print as one line with what to do. */
export async function run(argv: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    printError(error);
    return 1;
  }
}
