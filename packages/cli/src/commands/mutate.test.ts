import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

describe('junction mutate', () => {
  it('refuses a source file that does not exist, saying how to name one, before starting anything', async () => {
    const result = await runCli(['mutate', 'packages/events/src/subscriber/no-such-part.ts'], 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no such source file: packages/events/src/subscriber/no-such-part.ts');
    expect(result.stderr).toContain('give paths from the repository root');
    expect(result.stdout).not.toContain('Stryker');
  });

  it('says what it does and what it needs in --help', async () => {
    const result = await runCli(['mutate', '--help'], 30_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('exits 1 under a mutation score of 85%');
    expect(result.stdout).toContain('test/mutation/stryker.config.mjs');
  });
});
