import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { isPortFree } from './internal/ports.ts';
import { processesMentioning } from './internal/processes.ts';
import { type Stack, startStack } from './stack.ts';
import { stackStatus } from './status.ts';
import { stopStack } from './stop.ts';

const stateDirs: string[] = [];
const newStateDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'junction-stack-int-'));
  stateDirs.push(dir);
  return dir;
};

afterAll(async () => {
  for (const stateDir of stateDirs) await stopStack({ stateDir, purge: true, graceMs: 5000 });
});

describe('a Kafka node that fails to start', () => {
  it('is reported with the last lines of its output', async () => {
    const error = await startStack({
      stateDir: await newStateDir(),
      ports: 'auto',
      registry: false,
      postgres: false,
      redis: false,
      kafkaConfig: { 'num.network.threads': 'zero' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StackError);
    const stackError = error as StackError;
    expect(stackError.code).toBe('component-exited');
    expect(stackError.message).toContain('kafka-1');
    expect(stackError.logTail.join('\n')).toContain('num.network.threads');
  });

  it('that does not answer in time is stopped, with nothing left running', async () => {
    const stateDir = await newStateDir();
    const error = await startStack({ stateDir, ports: 'auto', registry: false, postgres: false, redis: false, readyTimeoutMs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as StackError).code).toBe('component-not-ready');
    expect((error as StackError).message).toContain('kafka-1 did not become ready');
    expect(processesMentioning(stateDir)).toEqual([]);
    const status = await stackStatus({ stateDir });
    expect(status.components.map((c) => c.state)).toEqual(['stopped']);
  });
});

describe('a running stack', () => {
  let stack: Stack;

  it('starts once; a second start reports it running and starts nothing', async () => {
    const stateDir = await newStateDir();
    stack = await startStack({ stateDir, ports: 'auto', registry: false, postgres: false, redis: false });
    expect(stack.alreadyRunning).toBe(false);
    expect(stack.started).toEqual(['kafka-1']);
    const pid = stack.nodes[0]?.pid;
    expect(processesMentioning(stateDir)).toEqual([pid]);

    const again = await startStack({ stateDir });
    expect(again.alreadyRunning).toBe(true);
    expect(again.started).toEqual([]);
    expect(again.nodes[0]?.pid).toBe(pid);
    expect(processesMentioning(stateDir)).toEqual([pid]);
  });

  it('refuses a different layout in the same state directory', async () => {
    const error = await startStack({ stateDir: stack.stateDir, brokers: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as StackError).code).toBe('state-conflict');
    expect((error as StackError).message).toContain('1 broker(s), 3 were asked for');
  });

  it('restarts a node that died, with its data', async () => {
    const kafka = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'survives-a-crash', numPartitions: 2 }] });
    await expect
      .poll(
        async () => {
          const [topic] = (await admin.fetchTopicMetadata({ topics: ['survives-a-crash'] }).catch(() => ({ topics: [] }))).topics;
          return topic?.partitions.filter((p) => p.leader >= 0).length;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(2);
    await admin.disconnect();

    expect(stack.kill('kafka-1', 'SIGKILL')).toBe(true);
    await expect
      .poll(async () => (await stackStatus({ stateDir: stack.stateDir })).components[0]?.state, { timeout: 10_000 })
      .toBe('exited');

    const restarted = await startStack({ stateDir: stack.stateDir });
    expect(restarted.started).toEqual(['kafka-1']);
    const admin2 = new Kafka({ brokers: restarted.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    expect(await admin2.listTopics()).toContain('survives-a-crash');
    await admin2.disconnect();
  });

  it('stops every process it started and frees its ports', async () => {
    const status = await stackStatus({ stateDir: stack.stateDir });
    const ports = status.components.map((c) => c.port);
    expect(await stopStack({ stateDir: stack.stateDir })).toEqual(['kafka-1']);
    expect(processesMentioning(stack.stateDir)).toEqual([]);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
    expect(await stopStack({ stateDir: stack.stateDir })).toEqual([]);
  });
});
