import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { StackError } from '../errors.ts';
import type { JavaRuntime } from './java.ts';
import { HOST } from './ports.ts';
import { launch } from './processes.ts';
import { type AdminAuth, scramArguments, secretsDir, secureProperties, withJavaArgFile } from './security.ts';
import type { KafkaNodeRecord } from './state.ts';
import { lastLines, runTool } from './tools.ts';

/**
 * A new cluster id: 16 random bytes in URL-safe base64, as Kafka writes them. Like Kafka's own
 * `Uuid.randomUuid()`, it never starts with `-` or `_`: the storage tool would read a leading
 * dash as an option.
 */
export function newClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** `host:port` of a node's client listener. */
export function brokerAddress(node: KafkaNodeRecord): string {
  return `${HOST}:${node.port}`;
}

/**
 * The `server.properties` of one node. Every node is broker and controller at once (KRaft
 * combined mode) with a static voter set. Replication follows the cluster size: with three
 * nodes, internal topics get three replicas and `min.insync.replicas` is 2, so one node may
 * die without losing an acknowledged write.
 */
export function kafkaProperties(
  node: KafkaNodeRecord,
  cluster: KafkaNodeRecord[],
  overrides: Record<string, string>,
  secure?: Record<string, string>,
): string {
  const replicas = Math.min(3, cluster.length);
  const minIsr = replicas >= 3 ? 2 : 1;
  const properties: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(node.nodeId),
    'controller.quorum.voters': cluster.map((n) => `${n.nodeId}@${HOST}:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(node.dir, 'data'),
    // Topics are created on purpose, with the partitions and configs of schemas/topics.yaml.
    'auto.create.topics.enable': 'false',
    'num.partitions': '1',
    'default.replication.factor': String(replicas),
    'min.insync.replicas': String(minIsr),
    'offsets.topic.replication.factor': String(replicas),
    // Fewer offset partitions than the production default of 50: a laptop broker starts its
    // first consumer group faster, and nothing here needs 50-way coordinator spread.
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': String(replicas),
    'transaction.state.log.min.isr': String(minIsr),
    'share.coordinator.state.topic.replication.factor': String(replicas),
    'share.coordinator.state.topic.min.isr': String(minIsr),
    'group.initial.rebalance.delay.ms': '0',
    'unclean.leader.election.enable': 'false',
    ...secure,
    ...overrides,
  };
  return `${Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
`;

/** Java arguments shared by the node and its storage tool. */
function javaArgs(node: KafkaNodeRecord, libs: string): string[] {
  return [
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(node.dir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(node.dir, 'logs')}`,
    '-cp',
    join(libs, '*'),
  ];
}

/** Options for {@link prepareKafkaNode}. */
export interface PrepareOptions {
  java: JavaRuntime;
  libs: string;
  node: KafkaNodeRecord;
  cluster: KafkaNodeRecord[];
  clusterId: string;
  overrides: Record<string, string>;
  /** A secure stack: its state directory (secrets) and the SCRAM users made when storage is formatted. */
  secure?: { stateDir: string; users: string[] } | undefined;
}

/** The storage tool's format command, and for a secure node the argument file it reads. */
export interface FormatCommand {
  /** The command line: what `ps` shows. */
  argv: string[];
  /** A secure node's `kafka.tools.StorageTool format …` with its SCRAM credentials, to be written to `path` (mode 0600). */
  argFile?: { path: string; args: string[] } | undefined;
}

/**
 * The format command of a node. A secure one's SCRAM credentials go into an argument file, with
 * the main class: the launcher expands `@file` only before the main class.
 */
export function formatCommand(options: PrepareOptions): FormatCommand {
  const { node, secure } = options;
  const java = javaArgs(node, options.libs);
  const tool = [
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    options.clusterId,
    '--config',
    join(node.dir, 'server.properties'),
    '--ignore-formatted',
  ];
  if (!secure) return { argv: [...java, ...tool] };
  const path = join(secretsDir(secure.stateDir), 'kafka', `.format-${node.name}.args`);
  return { argv: [...java, `@${path}`], argFile: { path, args: [...tool, ...scramArguments(secure.stateDir, secure.users)] } };
}

/**
 * Writes a node's configuration and formats its storage, once; a formatted node keeps its data.
 * A secure node's SCRAM credentials reach the tool through a 0600 argument file: a salted password
 * is enough to log in, and any local user can read a command line.
 */
export async function prepareKafkaNode(options: PrepareOptions): Promise<void> {
  const { node } = options;
  await mkdir(join(node.dir, 'data'), { recursive: true });
  const { secure } = options;
  const properties = join(node.dir, 'server.properties');
  // A secure node's file holds the admin's password.
  await writeFile(
    properties,
    kafkaProperties(node, options.cluster, options.overrides, secure ? secureProperties(secure.stateDir, node) : undefined),
    { mode: 0o600 },
  );
  await chmod(properties, 0o600);
  await writeFile(join(node.dir, 'log4j2.properties'), LOG4J2);
  if (existsSync(join(node.dir, 'data', 'meta.properties'))) return;
  const { argv, argFile } = formatCommand(options);
  const run = () => runTool(options.java.bin, argv, { timeoutMs: 120_000 });
  const result = argFile ? await withJavaArgFile(argFile.path, argFile.args, run) : await run();
  if (result.code !== 0) {
    // The tool may quote an argument it refuses, credential and all.
    const tail = lastLines(`${result.stdout}\n${result.stderr}`, 15).map((line) =>
      line.replace(/saltedpassword="[^"]*"/g, 'saltedpassword="…"'),
    );
    throw new StackError('component-exited', `formatting the storage of ${node.name} failed: ${tail.at(-1) ?? `exit ${result.code}`}`, {
      hint: `check ${join(node.dir, 'server.properties')}`,
      logTail: tail,
    });
  }
}

/** Starts a prepared node; it runs detached until stopped. */
export function startKafkaNode(java: JavaRuntime, libs: string, node: KafkaNodeRecord, heap: string): ChildProcess {
  return launch({
    command: java.bin,
    args: [
      node.marker,
      '-Xms128m',
      `-Xmx${heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      ...javaArgs(node, libs),
      'kafka.Kafka',
      join(node.dir, 'server.properties'),
    ],
    logFile: node.logFile,
    cwd: node.dir,
  });
}

/** What a broker said when asked for cluster metadata. */
export interface BrokerProbe {
  ok: boolean;
  /** Brokers the cluster metadata lists. */
  brokers: number;
  ms: number;
  error?: string;
}

/** The TLS and SASL settings of a kafkajs client connecting as the stack's admin; none for a plaintext stack. */
export function adminClientAuth(auth: AdminAuth | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!auth) return {};
  return { ssl: { ca: [auth.ca] }, sasl: { mechanism: 'scram-sha-512', username: auth.username, password: auth.password } };
}

/** Asks the brokers at `addresses` for cluster metadata, once, within `timeoutMs`; as admin when `auth` is given. */
export async function probeKafka(addresses: string[], timeoutMs: number, auth?: AdminAuth): Promise<BrokerProbe> {
  const started = Date.now();
  const kafka = new Kafka({
    clientId: 'junction-stack-probe',
    brokers: addresses,
    ...adminClientAuth(auth),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const cluster = await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, brokers: cluster.brokers.length, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, brokers: 0, ms: Date.now() - started, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}
