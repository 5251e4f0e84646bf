import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree } from './internal/ports.ts';
import { commandLine, processesMentioning } from './internal/processes.ts';
import { runTool, which } from './internal/tools.ts';
import { type Stack, startStack } from './stack.ts';
import { stackStatus } from './status.ts';
import { stopStack } from './stop.ts';

let stateDir: string | undefined;

afterAll(async () => {
  if (!stateDir) return;
  await stopStack({ stateDir, purge: true, graceMs: 5000 });
  await rm(stateDir, { recursive: true, force: true });
});

/** Runs one command with redis-cli, which Debian's redis-server brings along (redis-tools). */
async function redisCli(url: string, ...args: string[]): Promise<string> {
  const cli = which('redis-cli', process.env) ?? '/usr/bin/redis-cli';
  const result = await runTool(cli, ['-u', url, ...args], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`redis-cli failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe('Redis in the stack', () => {
  let stack: Stack;

  it('starts with Kafka on 127.0.0.1 in protected mode, its command line marked with its directory', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'junction-redis-int-'));
    stack = await startStack({ stateDir, ports: 'auto', registry: false, postgres: false });
    expect(stack.started).toEqual(['kafka-1', 'redis']);
    expect(stack.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const url = stack.redisUrl ?? '';
    expect(await redisCli(url, 'PING')).toBe('PONG');
    expect(await redisCli(url, 'CONFIG', 'GET', 'bind')).toBe('bind\n127.0.0.1');
    expect(await redisCli(url, 'CONFIG', 'GET', 'protected-mode')).toBe('protected-mode\nyes');
    expect(await redisCli(url, 'CONFIG', 'GET', 'save')).toBe('save');
    const status = await stackStatus({ stateDir });
    const redis = status.components.find((c) => c.name === 'redis');
    expect(redis).toMatchObject({ kind: 'redis', state: 'running', healthy: true, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(status.redisUrl).toBe(url);
    // The marker that `down` and CI's clean-up look for, after Redis rewrote its title.
    expect(commandLine(redis?.pid ?? 0)).toContain(`junction.component=${join(stateDir, 'redis')}`);
  });

  it('is started again, alone, after it was killed', async () => {
    expect(stack.kill('redis', 'SIGKILL')).toBe(true);
    await expect
      .poll(async () => (await stackStatus({ stateDir })).components.find((c) => c.name === 'redis')?.state, { timeout: 10_000 })
      .toBe('exited');
    const again = await startStack({ stateDir });
    expect(again.started).toEqual(['redis']);
    expect(again.redisUrl).toBe(stack.redisUrl);
    expect(await redisCli(again.redisUrl ?? '', 'PING')).toBe('PONG');
  });

  it('stops with the stack and frees its port', async () => {
    const port = Number(new URL(stack.redisUrl ?? '').port);
    expect((await stopStack({ stateDir })).sort()).toEqual(['kafka-1', 'redis']);
    expect(processesMentioning(join(stateDir ?? '', 'redis'))).toEqual([]);
    expect(await isPortFree(port)).toBe(true);
  });
});
