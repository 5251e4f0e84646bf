import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboards } from './index.ts';
import { toJsonText } from './json.ts';

/** The repository root, where biome.json and the formatter live. */
function root(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

/** What the repository's formatter makes of `text`, with the repository's settings. */
function biomeFormat(text: string): string {
  const run = spawnSync(
    process.execPath,
    [join(root(), 'node_modules/@biomejs/biome/bin/biome'), 'format', '--stdin-file-path=probe.json'],
    {
      cwd: root(),
      input: text,
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`biome format failed: ${run.stderr}`);
  return run.stdout;
}

describe('toJsonText()', () => {
  it('is JSON.parse-able back to the value, with a trailing newline', () => {
    const value = { a: [1, 'x', null, true], b: { c: [] as unknown[], d: {} }, e: [{ f: 'é — ok' }] };
    const text = toJsonText(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('breaks arrays of plain values exactly where the formatter does', () => {
    // Sweep string lengths so each shape's line crosses 140 characters: nested or not, last in its
    // object or not; the one-line-or-not decision must match the formatter's to the character.
    const shapes = (s: string) => [{ tags: [s] }, { tags: [s, 'y'], more: 1 }, { a: { b: [{ tags: [s], z: 0 }] } }, [[s], [1, s]]];
    const value = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`n${110 + i}`, shapes('x'.repeat(110 + i))]));
    const text = toJsonText(value);
    expect(text).toMatch(/"tags": \["x+"\]/);
    expect(text).toMatch(/"tags": \[\n/);
    expect(biomeFormat(text)).toBe(text);
  });

  it.each(dashboards().map((d) => [d.file, d.text] as const))('%s: the formatter leaves it as it is', (_, text) => {
    expect(biomeFormat(text)).toBe(text);
  });
});
