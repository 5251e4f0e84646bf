import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackFromEnv } from '@junction/stack';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

describe('junction demo consume', () => {
  it('--help says what it does', async () => {
    const result = await runCli(['demo', 'consume', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: junction demo consume [options]');
    expect(result.stdout).toContain('--flaky <fraction>');
    expect(result.stdout).toContain('--metrics-port <port>');
  });

  it('refuses a bad --flaky in one line', async () => {
    const result = await runCli(['demo', 'consume', '--flaky', '2']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected a fraction');
  });

  it('consumes published orders with the whole chain, counts their effects once, and stops cleanly', { timeout: 180_000 }, async () => {
    const { brokers, schemaRegistryUrl } = stackFromEnv();
    const state = await mkdtemp(join(tmpdir(), 'junction-demo-'));
    try {
      const flags = ['--brokers', brokers.join(','), '--registry', schemaRegistryUrl];
      // orders.order must exist: the test stack is fresh, so register the contracts first.
      const registered = await runCli(['schemas', 'register', ...flags]);
      expect(registered.code, registered.stderr).toBe(0);
      const result = await runCli(
        ['demo', 'consume', '--publish', '12', '--stop-after', '12', '--flaky', '0.3', '--metrics-port', '0', ...flags],
        150_000,
        {
          JUNCTION_STATE_DIR: state,
        },
      );
      // Both streams on failure: the live lines on stdout say how far it got.
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toContain('Consuming orders.order as group demo');
      expect(`${result.stdout}${result.stderr}`).toMatch(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
      // The last line: every order done with once — handled, its effect counted once, or (when
      // every retry of it failed, about one run in a hundred at --flaky 0.3) dead-lettered.
      const last =
        result.stdout
          .trim()
          .split('\n')
          .filter((line) => line.startsWith('consumed'))
          .at(-1) ?? '';
      const count = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(last)?.[1] ?? Number.NaN);
      expect(count('handled') + count('dead-lettered'), last).toBe(12);
      expect(count('handled'), last).toBeGreaterThan(0);
      expect(count('effects'), last).toBe(count('handled'));
      expect(result.stdout).toContain('Stopped: running work finished and its offsets are committed.');
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
