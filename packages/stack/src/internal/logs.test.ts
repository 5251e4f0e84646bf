import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followFile, tailFile } from './logs.ts';

describe('tailFile', () => {
  it('returns the last lines, across read-chunk boundaries', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'junction-logs-')), 'big.log');
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await tailFile(file, 3)).toEqual(lines.slice(-3));
    expect(await tailFile(file, 5000)).toEqual(lines.slice(-5000));
  });

  it('returns nothing for a missing file', async () => {
    expect(await tailFile('/nonexistent/junction.log', 10)).toEqual([]);
  });
});

describe('followFile', () => {
  it('reports lines appended after it starts, and only whole lines', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'junction-follow-')), 'f.log');
    await writeFile(file, 'old line\n');
    const seen: string[] = [];
    const stop = new AbortController();
    const following = followFile(file, (line) => seen.push(line), stop.signal);
    await appendFile(file, 'first\nsecond\nhalf');
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['first', 'second']);
    await appendFile(file, ' done\n');
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['first', 'second', 'half done']);
    stop.abort();
    await following;
  });
});
