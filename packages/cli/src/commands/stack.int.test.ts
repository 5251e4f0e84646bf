import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortFree, processesMentioning, stopStack } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortPair, runCli } from '../testing/cli.ts';

interface StatusJson {
  exists: boolean;
  components: Array<{ name: string; state: string; pid?: number; version: string; healthy?: boolean; port: number }>;
}

describe('junction stack up | status | logs | down', () => {
  let stateDir: string;
  let kafkaPort: number;
  let registryPort: number;
  let postgresPort: number;
  let redisPort: number;
  let prometheusPort: number;
  let pids: number[];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'junction-cli-stack-'));
    kafkaPort = await freePortPair();
    registryPort = await freePortPair();
    postgresPort = await freePortPair();
    redisPort = await freePortPair();
    prometheusPort = await freePortPair();
  });

  afterAll(async () => {
    await stopStack({ stateDir, purge: true, graceMs: 5000 });
  });

  const status = async (): Promise<StatusJson> =>
    JSON.parse((await runCli(['stack', 'status', '--json', '--state-dir', stateDir])).stdout) as StatusJson;

  it('up starts Kafka 4.3.1, Apicurio 3.3.3, PostgreSQL, Redis and Prometheus and returns once all answer', async () => {
    const result = await runCli([
      'stack',
      'up',
      '--state-dir',
      stateDir,
      '--kafka-port',
      String(kafkaPort),
      '--registry-port',
      String(registryPort),
      '--postgres-port',
      String(postgresPort),
      '--redis-port',
      String(redisPort),
      '--prometheus-port',
      String(prometheusPort),
      '--registry-storage',
      'memory',
    ]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Started kafka-1, registry, postgres, redis, prometheus.');
    expect(result.stdout).toContain(`127.0.0.1:${kafkaPort}`);
    expect(result.stdout).toContain(`http://127.0.0.1:${registryPort}/apis/ccompat/v7`);
    expect(result.stdout).toContain(`postgres://junction@127.0.0.1:${postgresPort}/junction`);
    expect(result.stdout).toContain(`redis://127.0.0.1:${redisPort}`);
    expect(result.stdout).toContain(`http://127.0.0.1:${prometheusPort}`);
    const now = await status();
    expect(now.components.map((c) => [c.name, c.state, c.version, c.healthy])).toEqual([
      ['kafka-1', 'running', '4.3.1', true],
      ['registry', 'running', '3.3.3', true],
      ['postgres', 'running', expect.stringMatching(/^\d+\.\d+$/), true],
      ['redis', 'running', expect.stringMatching(/^\d+\.\d+\.\d+$/), true],
      ['prometheus', 'running', expect.stringMatching(/^\d+\.\d+\.\d+$/), true],
    ]);
    pids = now.components.map((c) => c.pid ?? 0);
    expect(processesMentioning(stateDir).sort()).toEqual([...pids].sort());
  });

  it('up again reports the running stack and starts nothing', async () => {
    const result = await runCli(['stack', 'up', '--state-dir', stateDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('The stack was already running.');
    expect((await status()).components.map((c) => c.pid)).toEqual(pids);
    expect(processesMentioning(stateDir).sort()).toEqual([...pids].sort());
  });

  it('up on the running stack applies a new global compatibility', async () => {
    const config = async () =>
      ((await (await fetch(`http://127.0.0.1:${registryPort}/apis/ccompat/v7/config`)).json()) as { compatibilityLevel: string })
        .compatibilityLevel;
    expect(await config()).toBe('FULL_TRANSITIVE');
    expect((await runCli(['stack', 'up', '--state-dir', stateDir, '--compatibility', 'BACKWARD'])).code).toBe(0);
    expect(await config()).toBe('BACKWARD');
    expect((await status()).components.map((c) => c.pid)).toEqual(pids);
  });

  it('status shows each component with pid, port, version and health', async () => {
    const result = await runCli(['stack', 'status', '--state-dir', stateDir]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^COMPONENT\s+STATE\s+PID\s+PORT\s+VERSION\s+HEALTH$/);
    expect(lines[1]).toMatch(
      new RegExp(`^kafka-1\\s+running\\s+${pids[0]}\\s+${kafkaPort}\\s+4\\.3\\.1\\s+ok \\(metadata in \\d+ ms, 1 broker\\(s\\)\\)$`),
    );
    expect(lines[2]).toMatch(new RegExp(`^registry\\s+running\\s+${pids[1]}\\s+${registryPort}\\s+3\\.3\\.3\\s+ok`));
    expect(lines[3]).toMatch(
      new RegExp(`^postgres\\s+running\\s+${pids[2]}\\s+${postgresPort}\\s+\\d+\\.\\d+\\s+ok \\(accepts connections`),
    );
    expect(lines[4]).toMatch(
      new RegExp(`^redis\\s+running\\s+${pids[3]}\\s+${redisPort}\\s+\\d+\\.\\d+\\.\\d+\\s+ok \\(PONG in \\d+ ms\\)$`),
    );
    expect(lines[5]).toMatch(
      new RegExp(`^prometheus\\s+running\\s+${pids[4]}\\s+${prometheusPort}\\s+\\d+\\.\\d+\\.\\d+\\s+ok \\(ready in \\d+ ms\\)$`),
    );
  });

  it('logs shows the last lines of a component, and names the components on a typo', async () => {
    const result = await runCli(['stack', 'logs', 'kafka-1', '-n', '5', '--state-dir', stateDir]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(5);
    const typo = await runCli(['stack', 'logs', 'kafak-1', '--state-dir', stateDir]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('no component named "kafak-1"; the stack has kafka-1, registry, postgres, redis, prometheus');
    const postgres = await runCli(['stack', 'logs', 'postgres', '-n', '50', '--state-dir', stateDir]);
    expect(postgres.code).toBe(0);
    expect(postgres.stdout).toContain('database system is ready to accept connections');
    const redis = await runCli(['stack', 'logs', 'redis', '-n', '50', '--state-dir', stateDir]);
    expect(redis.code).toBe(0);
    expect(redis.stdout).toContain('Ready to accept connections');
    const prometheus = await runCli(['stack', 'logs', 'prometheus', '-n', '50', '--state-dir', stateDir]);
    expect(prometheus.code).toBe(0);
    expect(prometheus.stdout).toContain('Server is ready to receive web requests.');
  });

  it('refuses a port held by another process in one line that says what to do', async () => {
    const blocker = createServer();
    const port = await freePortPair();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const other = await mkdtemp(join(tmpdir(), 'junction-cli-blocked-'));
      const result = await runCli(['stack', 'up', '--state-dir', other, '--kafka-port', String(port), '--no-registry']);
      expect(result.code).toBe(1);
      const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('junction: error:'));
      expect(errorLines).toEqual([
        `junction: error: port ${port}, wanted by kafka-1, is in use by another process → stop that process (see \`ss -ltnp 'sport = :${port}'\`), or choose other ports with --kafka-port / --registry-port`,
      ]);
    } finally {
      blocker.close();
    }
  });

  it('rejects a bad argument, naming it', async () => {
    const result = await runCli(['stack', 'up', '--brokers', 'nine']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("option '--brokers <n>' argument 'nine' is invalid. expected a whole number from 1 to 5");
    expect(result.stderr).toContain('(add --help for usage)');
  });

  it('down stops every process it started and leaves no port behind', async () => {
    const result = await runCli(['stack', 'down', '--state-dir', stateDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Stopped kafka-1, registry, postgres, redis, prometheus');
    expect(processesMentioning(stateDir)).toEqual([]);
    for (const port of [kafkaPort, kafkaPort + 1, registryPort, registryPort + 1, postgresPort, redisPort, prometheusPort])
      expect(await isPortFree(port)).toBe(true);
    const after = await runCli(['stack', 'status', '--state-dir', stateDir]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/kafka-1\s+stopped/);
    expect((await runCli(['stack', 'down', '--state-dir', stateDir])).stdout).toContain('Nothing was running.');
  });
});
