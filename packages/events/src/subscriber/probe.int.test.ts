import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateContracts, privateContracts } from '../testing/contracts.ts';

const { brokers, schemaRegistryUrl } = stackFromEnv();
const PROCESS = resolve(import.meta.dirname, '../testing/stop-while-scraped.ts');
let contracts: PrivateContracts;

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
});
afterAll(async () => {
  await contracts?.cleanup();
});

describe('the subscriber probe', () => {
  it('leaves nothing behind when the subscriber stops while metrics are being scraped: the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', PROCESS], {
      env: { ...process.env, PROBE_SUFFIX: contracts.suffix, PROBE_GROUP: `probe-${randomBytes(3).toString('hex')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    // A socket left open would keep it alive for the broker's idle timeout (10 minutes).
    const code = await new Promise<number | null | 'hung'>((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done('hung');
      }, 45_000);
      child.once('exit', (exit) => {
        clearTimeout(timer);
        done(exit);
      });
    });
    expect(out, err).toContain('stopped');
    expect(code, err).toBe(0);
  }, 60_000);
});
