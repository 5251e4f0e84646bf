import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboards } from './index.ts';

/** helm/junction/dashboards/ of this repository: the files Grafana, the chart and the e2e check load. */
function committedDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return join(dir, 'helm/junction/dashboards');
}

describe('helm/junction/dashboards/', () => {
  const dir = committedDir();
  const generated = dashboards();

  it.each(generated.map((d) => [d.file, d.text] as const))(
    '%s is what the generator writes (else: ./junction dashboards)',
    (file, text) => {
      expect(readFileSync(join(dir, file), 'utf8')).toBe(text);
    },
  );

  it('holds no dashboard the generator does not write', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(generated.map((d) => d.file).sort());
  });
});
