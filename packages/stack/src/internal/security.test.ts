import { pbkdf2Sync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError } from '../errors.ts';
import { resolveOptions } from '../options.ts';
import { stackSecurity } from '../security.ts';
import { DEFAULT_JAVA_ROOTS, listJavaRuntimes } from './java.ts';
import { formatCommand, kafkaProperties } from './kafka.ts';
import { checkLayout, planRecord } from './layout.ts';
import {
  ensurePasswords,
  javaArgFileText,
  passwordFile,
  planUsers,
  readPassword,
  scramArguments,
  secureProperties,
  withJavaArgFile,
  writeRegistryKafkaConfig,
} from './security.ts';
import type { KafkaNodeRecord } from './state.ts';
import { runTool } from './tools.ts';

let stateDir: string;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'junction-secure-unit-'));
  await ensurePasswords(stateDir, planUsers(['orders', 'inventory']));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const node: KafkaNodeRecord = {
  kind: 'kafka',
  name: 'kafka-1',
  nodeId: 1,
  port: 9092,
  controllerPort: 9093,
  dir: '/state/kafka-1',
  logFile: '/state/kafka-1/kafka.log',
  marker: '-Djunction.component=/state/kafka-1',
  version: '4.3.1',
};

const parse = (text: string): Map<string, string> =>
  new Map(
    text
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]),
  );

describe('a secure stack', () => {
  it('has admin, the registry and the users asked for, each with a random password readable by its owner only', async () => {
    expect(planUsers(['orders', 'inventory', 'orders'])).toEqual(['admin', 'registry', 'orders', 'inventory']);
    expect(() => planUsers(['Orders', 'a b'])).toThrow(StackError);
    const passwords = ['admin', 'registry', 'orders', 'inventory'].map((user) => readPassword(stateDir, user));
    expect(new Set(passwords).size).toBe(4);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await stat(passwordFile(stateDir, 'orders'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'secrets'))).mode & 0o777).toBe(0o700);
    // Made once: a second call keeps them.
    await ensurePasswords(stateDir, ['orders']);
    expect(readPassword(stateDir, 'orders')).toBe(passwords[2]);
  });

  it('runs Kafka with SASL_SSL for clients and brokers, an authenticated controller listener, and deny by default', () => {
    const props = parse(kafkaProperties(node, [node], {}, secureProperties(stateDir, node)));
    expect(props.get('listeners')).toBe('SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(props.get('advertised.listeners')).toBe('SASL_SSL://127.0.0.1:9092');
    expect(props.get('listener.security.protocol.map')).toBe('SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL');
    expect(props.get('inter.broker.listener.name')).toBe('SASL_SSL');
    expect(props.get('sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    expect(props.get('sasl.mechanism.controller.protocol')).toBe('PLAIN');
    expect(props.get('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(props.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(props.get('super.users')).toBe('User:admin');
    expect(props.get('ssl.keystore.type')).toBe('PEM');
    expect([...props.keys()].some((key) => key.includes('PLAINTEXT') || props.get(key)?.includes('PLAINTEXT://'))).toBe(false);
    // A plaintext stack stays as it was.
    expect(parse(kafkaProperties(node, [node], {})).get('listeners')).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
  });

  it('gives the storage tool salted SCRAM-SHA-512 credentials that match each password, never the password itself', () => {
    const args = scramArguments(stateDir, ['orders']);
    expect(args[0]).toBe('--add-scram');
    const match = /^SCRAM-SHA-512=\[name=orders,iterations=(\d+),salt="([^"]+)",saltedpassword="([^"]+)"\]$/.exec(args[1] ?? '');
    expect(match).not.toBeNull();
    const [, iterations, salt, salted] = match ?? [];
    const password = readPassword(stateDir, 'orders');
    expect(args.join(' ')).not.toContain(password);
    const expected = pbkdf2Sync(password, Buffer.from(salt ?? '', 'base64'), Number(iterations), 64, 'sha512');
    expect(Buffer.from(salted ?? '', 'base64').equals(expected)).toBe(true);
  });

  it('formats storage with the SCRAM credentials in an argument file, none on the command line', () => {
    const prepare = { java: { home: '/jdk', bin: '/jdk/bin/java', major: 17, version: '17' }, libs: '/kafka/libs', cluster: [node] };
    const secure = formatCommand({ ...prepare, node, clusterId: 'c1', overrides: {}, secure: { stateDir, users: ['admin', 'orders'] } });
    const argv = secure.argv.join(' ');
    expect(argv).not.toContain('saltedpassword=');
    expect(argv).not.toContain('--add-scram');
    expect(argv).not.toContain('StorageTool');
    expect(secure.argFile?.path).toBe(join(stateDir, 'secrets', 'kafka', '.format-kafka-1.args'));
    expect(secure.argv.at(-1)).toBe(`@${secure.argFile?.path}`);
    // The main class heads the file: the launcher expands no @file after it.
    expect(secure.argFile?.args.slice(0, 2)).toEqual(['kafka.tools.StorageTool', 'format']);
    expect(secure.argFile?.args.filter((arg) => arg === '--add-scram')).toHaveLength(2);
    expect(secure.argFile?.args.join(' ')).toMatch(/name=orders,iterations=4096,salt="[^"]+",saltedpassword="[^"]+"/);
    // A plaintext node has no credentials, so no file.
    const plain = formatCommand({ ...prepare, node, clusterId: 'c1', overrides: {} });
    expect(plain.argFile).toBeUndefined();
    expect(plain.argv).toContain('kafka.tools.StorageTool');
  });

  it('keeps an argument file readable by its owner only while the tool runs, and deletes it even when the tool fails', async () => {
    const file = join(stateDir, 'secrets', 'kafka', '.test.args');
    await writeFile(file, 'left over by a killed run', { mode: 0o644 });
    const seen = await withJavaArgFile(file, ['Main', 'a "b"'], async () => ({
      mode: (await stat(file)).mode & 0o777,
      text: await readFile(file, 'utf8'),
    }));
    expect(seen).toEqual({ mode: 0o600, text: '"Main"\n"a \\"b\\""\n' });
    expect(existsSync(file)).toBe(false);
    await expect(
      withJavaArgFile(file, ['Main'], async () => {
        throw new Error('tool failed');
      }),
    ).rejects.toThrow('tool failed');
    expect(existsSync(file)).toBe(false);
  });

  it('writes argument files the Java launcher reads back verbatim, main class included', async () => {
    const runtimes = listJavaRuntimes({ env: process.env, roots: DEFAULT_JAVA_ROOTS }).filter((runtime) => runtime.major >= 17);
    expect(runtimes.length, 'a Java 17+ runtime (the stack needs one for Kafka)').toBeGreaterThan(0);
    const dir = join(stateDir, 'java-echo');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    const source = join(dir, 'Echo.java');
    await writeFile(
      source,
      'public class Echo { public static void main(String[] a) { for (String s : a) System.out.println("<" + s + ">"); } }\n',
    );
    const args = ['--add-scram', 'SCRAM-SHA-512=[name=a,salt="x+/=",saltedpassword="y=="]', 'back\\slash and "quotes" # not a comment'];
    const argFile = join(dir, 'echo.args');
    for (const runtime of runtimes) {
      // Single-file source mode: the source file stands where the main class would.
      const inFile = await withJavaArgFile(argFile, [source, ...args], () => runTool(runtime.bin, [`@${argFile}`], { timeoutMs: 60_000 }));
      expect(inFile.stdout.trim().split('\n'), runtime.version).toEqual(args.map((arg) => `<${arg}>`));
      // After the main class an @file reaches the program as it is: why the main class goes into the file.
      await writeFile(argFile, javaArgFileText(args), { mode: 0o600 });
      const after = await runTool(runtime.bin, [source, `@${argFile}`], { timeoutMs: 60_000 });
      expect(after.stdout.trim(), runtime.version).toBe(`<@${argFile}>`);
    }
  }, 60_000);

  it("keeps the registry's password in a file of its own, not on its command line", async () => {
    const registryDir = join(stateDir, 'registry');
    await writeRegistryKafkaConfig(stateDir, registryDir);
    const file = join(registryDir, 'config', 'application.properties');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('apicurio.kafka.common.security.protocol=SASL_SSL');
    expect(text).toContain(`password="${readPassword(stateDir, 'registry')}"`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('tells clients their environment: brokers, user, password file and CA', () => {
    const security = stackSecurity(stateDir, ['127.0.0.1:9092'], ['admin', 'orders']);
    expect(security.env('orders')).toEqual({
      JUNCTION_KAFKA_BROKERS: '127.0.0.1:9092',
      JUNCTION_KAFKA_SASL_USERNAME: 'orders',
      JUNCTION_KAFKA_SASL_PASSWORD_FILE: passwordFile(stateDir, 'orders'),
      JUNCTION_KAFKA_CA_FILE: join(stateDir, 'secrets', 'tls', 'ca.pem'),
    });
    expect(security.credentials('orders')).toEqual({
      mechanism: 'scram-sha-512',
      username: 'orders',
      password: readPassword(stateDir, 'orders'),
    });
    expect(() => security.credentials('billing')).toThrow(/no Kafka user billing/);
  });

  it('is fixed when the state directory is made: asking for plaintext is a conflict', async () => {
    const record = await planRecord(
      resolveOptions({ stateDir, ports: 'auto', secure: true, kafkaUsers: ['orders'], postgres: false, redis: false }),
    );
    expect(record.security?.users).toEqual(['admin', 'registry', 'orders']);
    expect(() => checkLayout(record, resolveOptions({ stateDir, secure: true, kafkaUsers: ['orders'] }))).not.toThrow();
    expect(() => checkLayout(record, resolveOptions({ stateDir }))).not.toThrow();
    expect(() => checkLayout(record, resolveOptions({ stateDir, secure: false }))).toThrow(/secure \(SASL_SSL\), plaintext was asked for/);
    // Users it lacks are no conflict: a running stack makes them (see the e2e security test).
    expect(() => checkLayout(record, resolveOptions({ stateDir, kafkaUsers: ['billing'] }))).not.toThrow();
    const plain = await planRecord(resolveOptions({ stateDir, ports: 'auto', postgres: false, redis: false }));
    expect(plain.security).toBeNull();
    expect(() => checkLayout(plain, resolveOptions({ stateDir, secure: true }))).toThrow(/plaintext, secure was asked for/);
  });
});
