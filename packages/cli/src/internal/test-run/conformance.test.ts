import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../paths.ts';
import { CONFORMANCE, conformanceFiles } from './conformance.ts';

describe("the transport's conformance set", () => {
  it('names integration tests that exist, each once, every one against the real stack', () => {
    const files = conformanceFiles();
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(new Set(files).size).toBe(files.length);
    for (const file of files) {
      expect(file, file).toMatch(/\.int\.test\.ts$/);
      expect(existsSync(join(repositoryRoot(), file)), `${file} exists`).toBe(true);
    }
  });

  it("covers each property issue 15 asks of a transport, the leader's SIGKILL through Junction's own publisher", () => {
    const properties = CONFORMANCE.map((entry) => entry.property).join('\n');
    for (const property of [
      'SIGKILL',
      'lost',
      'twice',
      'order',
      'rebalance',
      'pause',
      'backpressure',
      'retry topics',
      'dead letters',
      'compression',
    ]) {
      expect(properties).toContain(property);
    }
    const failover = readFileSync(join(repositoryRoot(), 'packages/events/src/publisher/failover.int.test.ts'), 'utf8');
    expect(failover).toContain("'SIGKILL'");
    expect(failover).toContain('createPublisher(');
  });
});
