import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../paths.ts';
import { runVitest } from './vitest.ts';

/** A fixture project of `src/testing/test-runs`. */
const fixture = (name: string): string => fileURLToPath(new URL(`../../testing/test-runs/${name}`, import.meta.url));

/** The environment of a fresh vitest: none of this worker's own VITEST_* variables. */
function freshEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_ENV'));
}

const run = (name: string, filters: string[] = []) =>
  runVitest({ root: repositoryRoot(), cwd: fixture(name), filters, env: freshEnv(), timeoutMs: 60_000, output: 'ignore' });

describe('runVitest judges a real vitest run', { timeout: 60_000 }, () => {
  it('passes a project whose tests all pass', async () => {
    const { verdict } = await run('passing');
    expect(verdict).toEqual({ passed: 1, failed: 0, causes: [] });
  });

  it('fails a failing test, counting it', async () => {
    const { verdict } = await run('failing');
    expect(verdict).toEqual({ passed: 1, failed: 1, causes: ['1 test(s) failed'] });
  });

  it('fails a run whose global setup threw, naming the error, though no test failed', async () => {
    const { verdict } = await run('setup-throws');
    expect(verdict.passed).toBe(0);
    expect(verdict.failed).toBeGreaterThan(0);
    expect(verdict.causes[0]).toBe('the run could not start: fixture: the test stack could not start');
  });

  it('fails a run with an error thrown outside any test, though every test passed', async () => {
    const { verdict } = await run('unhandled');
    expect(verdict.passed).toBe(2);
    expect(verdict.failed).toBe(1);
    expect(verdict.causes).toEqual(['1 error(s) outside any test, first Uncaught Exception: fixture: thrown outside any test']);
  });

  it('fails a run in which no test ran', async () => {
    const { verdict } = await run('no-tests');
    expect(verdict).toEqual({ passed: 0, failed: 1, causes: ['no test ran'] });
  });

  it('fails a run whose filters matched nothing, naming them', async () => {
    const { verdict } = await run('passing', ['no-such-file']);
    expect(verdict).toEqual({ passed: 0, failed: 1, causes: ['no test ran: nothing matched no-such-file'] });
  });

  it('counts a skipped test as a failure', async () => {
    const { verdict } = await run('skipped');
    expect(verdict.passed).toBe(1);
    expect(verdict.failed).toBe(1);
    expect(verdict.causes[0]).toMatch(/^1 test\(s\) skipped/);
  });

  it('fails a file that throws while it loads', async () => {
    const { verdict } = await run('broken-file');
    expect(verdict.passed).toBe(0);
    expect(verdict.failed).toBeGreaterThan(0);
    expect(verdict.causes[0]).toMatch(
      /^1 file\(s\) failed outside their tests, first .*broken-file\/sample\.fixture\.ts: .*this file fails while it loads/,
    );
  });
});
