import { describe, expect, it } from 'vitest';
import { gatewayBenchCommand } from './gateway.ts';

/** `bench gateway` throwing instead of exiting, and what it would have printed. */
function command() {
  const out: string[] = [];
  const err: string[] = [];
  const gateway = gatewayBenchCommand()
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  return { gateway, out, err };
}

// Only the arguments: the bench itself measures, and a test must not time anything.
describe('junction bench gateway', () => {
  it('explains every flag, what it starts and cleans up, and the target', async () => {
    const { gateway, out } = command();
    await expect(gateway.parseAsync(['--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    const help = out.join('');
    for (const flag of ['--rate', '--duration', '--connections', '--warm-up', '--state-dir', '--profile']) expect(help).toContain(flag);
    expect(help).toContain('./junction stack up');
    expect(help).toContain('orders.gateway-bench-<random>');
    expect(help).toContain('at most 5 ms at p99');
    expect(help).toContain('(default: 1000)');
    expect(help).toContain("Little's law");
  });

  it.each([
    ['--rate', '0'],
    ['--rate', '20001'],
    ['--rate', '1.5'],
    ['--duration', '0'],
    ['--duration', '121'],
    ['--connections', '0'],
    ['--connections', '1001'],
    ['--warm-up', '61'],
    ['--warm-up', 'soon'],
  ])('refuses %s %s before it starts anything', async (flag, value) => {
    const { gateway, err } = command();
    await expect(gateway.parseAsync([flag, value], { from: 'user' })).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    expect(err.join('')).toMatch(
      new RegExp(`option '${flag} <\\w+>' argument '${value.replace('.', '\\.')}' is invalid. expected a whole number from \\d+ to \\d+`),
    );
  });

  it('refuses an unknown flag', async () => {
    const { gateway } = command();
    await expect(gateway.parseAsync(['--url', 'http://example.com'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.unknownOption',
    });
  });
});
