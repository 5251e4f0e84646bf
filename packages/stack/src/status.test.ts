import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackStatus } from './status.ts';

describe('stackStatus', () => {
  it('reads a record written before the stack ran PostgreSQL', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'junction-status-'));
    const dir = join(stateDir, 'kafka-1');
    const record = {
      format: 1,
      clusterId: 'MkU3OEVBNTcwNTJENDM2Qk',
      createdAt: '2026-01-01T00:00:00.000Z',
      kafka: [
        {
          kind: 'kafka',
          name: 'kafka-1',
          nodeId: 1,
          port: 1,
          controllerPort: 2,
          dir,
          logFile: join(dir, 'kafka.log'),
          marker: `-Djunction.component=${dir}`,
          version: '4.3.1',
        },
      ],
      registry: null,
    };
    await writeFile(join(stateDir, 'stack.json'), JSON.stringify(record));
    const status = await stackStatus({ stateDir });
    expect(status.exists).toBe(true);
    expect(status.components.map((c) => [c.name, c.state])).toEqual([['kafka-1', 'stopped']]);
    expect(status.postgresUrl).toBeUndefined();
  });
});
