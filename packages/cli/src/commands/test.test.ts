import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../testing/test-runs/${name}`, import.meta.url));

/** The table row of a step: `tests  failed  <detail>  <time>`. */
const row = (output: string, step: string): string | undefined => output.split('\n').find((line) => line.startsWith(`${step} `));

describe('junction test', { timeout: 120_000 }, () => {
  let stateDir: string;
  // A state directory of its own: `junction test` stops the test stacks under it when it ends,
  // and the run this test is part of keeps its own under the repository's.
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'junction-test-cmd-'));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });
  const junctionTest = (name: string) =>
    runCli(['test', '--no-lint', '--no-typecheck', '--root', fixture(name)], 90_000, { JUNCTION_STATE_DIR: stateDir });

  it('exits 1 with a red row naming a global setup that threw, and a failed count in its last line', async () => {
    const result = await junctionTest('setup-throws');
    expect(result.code).toBe(1);
    expect(row(result.stdout, 'tests')).toMatch(/^tests\s+failed\s+the run could not start: fixture: the test stack could not start/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('exits 1 when an error was thrown outside any test, though every test passed', async () => {
    const result = await junctionTest('unhandled');
    expect(result.code).toBe(1);
    expect(row(result.stdout, 'tests')).toMatch(/^tests\s+failed\s+1 error\(s\) outside any test/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('2 passed, 1 failed');
  });

  it('exits 1 when no test ran', async () => {
    const result = await junctionTest('no-tests');
    expect(result.code).toBe(1);
    expect(row(result.stdout, 'tests')).toMatch(/^tests\s+failed\s+no test ran/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('exits 0 when every test passed', async () => {
    const result = await junctionTest('passing');
    expect(result.code).toBe(0);
    expect(row(result.stdout, 'tests')).toMatch(/^tests\s+passed\s+1 passed/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });
});
