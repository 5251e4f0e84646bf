import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { benchCommand, saturationNote } from './bench.ts';

/** `junction bench` with every subcommand throwing instead of exiting, and what it would have printed. */
function bench(): { command: Command; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const command = benchCommand();
  for (const sub of [command, ...command.commands]) {
    sub.exitOverride().configureOutput({
      writeOut: (text) => out.push(text),
      writeErr: (text) => err.push(text),
    });
  }
  return { command, out, err };
}

// Only the arguments: the bench itself measures, and a test must not time anything.
describe('junction bench observability', () => {
  it('explains what on and off mean, and the target', async () => {
    const { command, out } = bench();
    await expect(command.parseAsync(['observability', '--help'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    const help = out.join('');
    for (const flag of ['--events', '--rounds', '--size', '--keys', '--brokers', '--registry', '--no-tracing'])
      expect(help).toContain(flag);
    expect(help).toMatch(/^off: no metrics registry and no tracing SDK/m);
    expect(help).toMatch(/^on: what every service has: createMetrics/m);
    expect(help).toContain('at most 10 % fewer events/s');
    expect(help).toContain('OTEL_TRACES_SAMPLER=parentbased_traceidratio');
  });

  it.each([
    ['--rounds', '0'],
    ['--rounds', '21'],
    ['--events', '1.5'],
    ['--size', 'big'],
    ['--keys', '-3'],
  ])('refuses %s %s before it connects to anything', async (flag, value) => {
    const { command, err } = bench();
    await expect(command.parseAsync(['observability', flag, value], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
    expect(err.join('')).toContain(`option '${flag} <`);
  });

  it('refuses an unknown flag', async () => {
    const { command } = bench();
    await expect(command.parseAsync(['observability', '--window', '10'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.unknownOption',
    });
  });
});

describe('junction bench flow', () => {
  it('says what runs, what a held rate is, and what the baseline is', async () => {
    const { command, out } = bench();
    await expect(command.parseAsync(['flow', '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    const help = out.join('');
    for (const flag of ['--rate', '--duration', '--warmup', '--search', '--search-duration', '--provider-latency', '--target-p99'])
      expect(help).toContain(flag);
    expect(help).toContain('A rate is held when p99 stays under 1 s');
    expect(help).toContain("Kafka's own EndToEndLatency");
  });

  it.each([
    ['--search', '150,abc'],
    ['--search', '0'],
    ['--rate', '0'],
    ['--duration', '601'],
    ['--provider-latency', '-1'],
  ])('refuses %s %s before it starts anything', async (flag, value) => {
    const { command, err } = bench();
    await expect(command.parseAsync(['flow', flag, value], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
    expect(err.join('')).toContain(`option '${flag} <`);
  });
});

describe('bench flow on a saturated machine', () => {
  it('says that runs vary widely once the processes keep 90 % of the cores busy, and nothing below', () => {
    expect(saturationNote(0.89)).toBeUndefined();
    expect(saturationNote(0.93)).toMatch(/^The machine was 93 % busy: at this rate the flow is saturated, and its p99 varies widely/);
  });
});
