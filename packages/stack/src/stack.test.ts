import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { DEFAULT_JAVA_ROOTS, findJava } from './internal/java.ts';
import { freePorts, HOST } from './internal/ports.ts';
import { which } from './internal/tools.ts';
import { startStack } from './stack.ts';

// These start no JVM: each failure is caught before anything runs, and each says what to do.

const scratch = () => mkdtemp(join(tmpdir(), 'junction-stack-'));

async function failure(promise: Promise<unknown>): Promise<StackError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof StackError)) throw new Error(`expected a StackError, got ${String(error)}`);
  return error;
}

describe('startStack refuses clearly', () => {
  it('when a port is taken by another process', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    try {
      const error = await failure(
        startStack({ stateDir: await scratch(), ports: { kafka: address.port }, registry: false, postgres: false, redis: false }),
      );
      expect(error.code).toBe('port-in-use');
      expect(error.message).toContain(`port ${address.port}`);
      expect(error.message).toContain('kafka-1');
      expect(error.hint).toContain('--kafka-port');
    } finally {
      server.close();
    }
  });

  it("when Prometheus's port is taken, naming its flag", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    try {
      const [kafka] = await freePorts(1);
      const error = await failure(
        startStack({
          stateDir: await scratch(),
          ports: { kafka, prometheus: address.port },
          registry: false,
          postgres: false,
          redis: false,
          prometheus: true,
        }),
      );
      expect(error.code).toBe('port-in-use');
      expect(error.message).toBe(`port ${address.port}, wanted by prometheus, is in use by another process`);
      expect(error.hint).toContain('--prometheus-port');
    } finally {
      server.close();
    }
  });

  it('when there is no Java', async () => {
    const error = await failure(
      startStack({
        stateDir: await scratch(),
        ports: 'auto',
        registry: false,
        postgres: false,
        redis: false,
        env: { PATH: '' },
        javaRoots: [],
      }),
    );
    expect(error.code).toBe('java-missing');
    expect(error.message).toContain('needs Java 17 or newer; found no Java at all');
    expect(error.hint).toContain('JAVA_HOME');
  });

  it('when there is no PostgreSQL server', async () => {
    const error = await failure(
      startStack({ stateDir: await scratch(), ports: 'auto', registry: false, env: { PATH: '' }, postgresRoots: [] }),
    );
    expect(error.code).toBe('postgres-missing');
    expect(error.message).toBe('the stack needs PostgreSQL 15 or newer; found no PostgreSQL server at all');
    expect(error.hint).toContain('apt-get install -y postgresql');
    expect(error.hint).toContain('--no-postgres');
  });

  it('when there is no redis-server on PATH', async () => {
    const error = await failure(
      startStack({ stateDir: await scratch(), ports: 'auto', registry: false, postgres: false, env: { PATH: '' } }),
    );
    expect(error.code).toBe('redis-missing');
    expect(error.message).toBe('the stack needs a Redis server, and this machine has no redis-server on PATH');
    expect(error.hint).toMatch(/^install it \((sudo )?apt-get install -y redis-server\), or run without it \(--no-redis\)$/);
  });

  it('not for a missing PostgreSQL, Redis or Prometheus with optionalServers: it goes on, and fails only at what it needs', async () => {
    const error = await failure(
      startStack({
        stateDir: await scratch(),
        ports: 'auto',
        registry: false,
        prometheus: true,
        optionalServers: true,
        env: { PATH: '' },
        postgresRoots: [],
        javaRoots: [],
      }),
    );
    // Past the three servers, to Kafka's Java, which no option makes optional.
    expect(error.code).toBe('java-missing');
  });

  it('when Java is too old', async () => {
    const home = await scratch();
    await writeFile(join(home, 'release'), 'JAVA_VERSION="11.0.2"\n');
    const bin = join(home, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'java'), '#!/bin/sh\nexit 1\n');
    await chmod(join(bin, 'java'), 0o755);
    const error = await failure(
      startStack({
        stateDir: await scratch(),
        ports: 'auto',
        registry: false,
        postgres: false,
        redis: false,
        env: { PATH: '', JAVA_HOME: home },
        javaRoots: [],
      }),
    );
    expect(error.code).toBe('java-missing');
    expect(error.message).toContain(`found Java 11 (${home})`);
  });

  it('when Maven is missing and Kafka is not cached yet', async () => {
    const java = findJava({ env: process.env, roots: DEFAULT_JAVA_ROOTS }, 17);
    if (!java) throw new Error('this machine needs a JDK 17+ to run the stack tests');
    const error = await failure(
      startStack({
        stateDir: await scratch(),
        cacheDir: await scratch(),
        ports: 'auto',
        registry: false,
        postgres: false,
        redis: false,
        env: { PATH: '', JAVA_HOME: java.home },
      }),
    );
    expect(error.code).toBe('maven-missing');
    expect(error.hint).toContain('apt-get install -y maven');
  });

  it('when the download fails', async () => {
    const mvn = which('mvn', process.env);
    if (!mvn) throw new Error('this machine needs Maven to run the stack tests');
    // The real Maven, offline and with an empty local repository: resolution must fail.
    const dir = await scratch();
    const offline = join(dir, 'mvn-offline');
    await writeFile(offline, `#!/bin/sh\nexec "${mvn}" -o -Dmaven.repo.local="${join(dir, 'm2')}" "$@"\n`);
    await chmod(offline, 0o755);
    const error = await failure(
      startStack({
        stateDir: await scratch(),
        cacheDir: await scratch(),
        ports: 'auto',
        registry: false,
        postgres: false,
        redis: false,
        env: { ...process.env, JUNCTION_MVN: offline },
      }),
    );
    expect(error.code).toBe('download-failed');
    expect(error.message).toMatch(/^download of org\.apache\.kafka:kafka_2\.13:4\.3\.1 from Maven Central failed: .+/);
    expect(error.hint).toContain('Maven Central');
  });
});
