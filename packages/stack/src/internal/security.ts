import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { StackError } from '../errors.ts';
import { ensureLocalCa, issueCertificate } from '../tls.ts';
import { HOST } from './ports.ts';
import { lastLines, runTool } from './tools.ts';

/** The super user: the stack's probes, ACL management and operators' tools connect as it. */
export const ADMIN_USER = 'admin';
/** The schema registry's own user (kafkasql storage), with ACLs on its journal topics and groups only. */
export const REGISTRY_USER = 'registry';
/** The registry's consumer groups start with this, so one prefixed ACL covers them. */
export const REGISTRY_GROUP_PREFIX = 'junction-registry-';
/** The registry's journal and snapshot topics (Apicurio's defaults) start with this. */
export const REGISTRY_TOPIC_PREFIX = 'kafkasql-';

const USER_NAME = /^[a-z][a-z0-9-]*$/;
/** SCRAM-SHA-512's minimum; more only slows every connection's handshake on a laptop. */
const SCRAM_ITERATIONS = 4096;

/** What `stack.json` records of a secure stack: its users, fixed when storage was formatted. */
export interface SecurityRecord {
  /** Every SCRAM user, `admin` and `registry` included. */
  users: string[];
}

/** Where a secure stack keeps its secrets: `<stateDir>/secrets`. */
export function secretsDir(stateDir: string): string {
  return join(stateDir, 'secrets');
}

/** `<stateDir>/secrets/kafka/<user>.password` (mode 0600). */
export function passwordFile(stateDir: string, user: string): string {
  return join(secretsDir(stateDir), 'kafka', `${user}.password`);
}

/** The local CA that signed the brokers' certificate: what clients trust. */
export function caFile(stateDir: string): string {
  return join(secretsDir(stateDir), 'tls', 'ca.pem');
}

/** The PEM keystore of the brokers: private key and certificate in one file, as Kafka's `ssl.keystore.type=PEM` reads it. */
export function keystoreFile(stateDir: string): string {
  return join(secretsDir(stateDir), 'tls', 'kafka-keystore.pem');
}

/** The users of a new secure stack: admin, the registry, and the ones asked for, each once. */
export function planUsers(requested: readonly string[]): string[] {
  const bad = requested.filter((user) => !USER_NAME.test(user));
  if (bad.length > 0) {
    throw new StackError(
      'invalid-options',
      `Kafka user names are lower-case service names; got ${bad.map((u) => JSON.stringify(u)).join(', ')}`,
    );
  }
  return [...new Set([ADMIN_USER, REGISTRY_USER, ...requested])];
}

/** Reads a user's password; a missing file means the secrets were deleted under a running stack. */
export function readPassword(stateDir: string, user: string): string {
  const file = passwordFile(stateDir, user);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new StackError('state-conflict', `the password of Kafka user ${user} is missing (${file})`, {
      hint: 'the stack was made with it; start afresh with ./junction stack down --purge',
      cause: error,
    });
  }
}

/** Writes a random password for every user that has none yet (mode 0600); existing ones stay. */
export async function ensurePasswords(stateDir: string, users: readonly string[]): Promise<void> {
  const dir = join(secretsDir(stateDir), 'kafka');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(secretsDir(stateDir), 0o700);
  for (const user of users) {
    const file = passwordFile(stateDir, user);
    if (existsSync(file)) continue;
    await writeFile(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
}

/** The CA, the brokers' certificate for 127.0.0.1 and localhost, and their PEM keystore; made once, reused while valid. */
export async function ensureBrokerTls(stateDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = join(secretsDir(stateDir), 'tls');
  const ca = await ensureLocalCa(dir, { env });
  const issued = await issueCertificate({ ca, dir, name: 'kafka', hosts: [HOST, 'localhost'], env });
  const [key, cert, caPem] = await Promise.all([
    readFile(issued.keyFile, 'utf8'),
    readFile(issued.certFile, 'utf8'),
    readFile(ca.certFile, 'utf8'),
  ]);
  await writeFile(keystoreFile(stateDir), `${key.trim()}\n${cert.trim()}\n${caPem.trim()}\n`, { mode: 0o600 });
  await chmod(keystoreFile(stateDir), 0o600);
}

/**
 * `--add-scram` arguments of the storage tool: each user's salted password (PBKDF2-HMAC-SHA512,
 * as SCRAM-SHA-512 defines it), so no clear password appears among the tool's arguments. A salted
 * password still logs in (SCRAM's client key derives from it): these go through
 * {@link withJavaArgFile}, never the command line.
 */
export function scramArguments(stateDir: string, users: readonly string[]): string[] {
  return users.flatMap((user) => {
    const salt = randomBytes(24);
    const salted = pbkdf2Sync(readPassword(stateDir, user), salt, SCRAM_ITERATIONS, 64, 'sha512');
    return [
      '--add-scram',
      `SCRAM-SHA-512=[name=${user},iterations=${SCRAM_ITERATIONS},salt="${salt.toString('base64')}",saltedpassword="${salted.toString('base64')}"]`,
    ];
  });
}

/**
 * The text of a Java launcher argument file (`java @file`): each argument double-quoted, with `\`
 * and `"` escaped as the launcher's parser expects, one a line.
 */
export function javaArgFileText(args: readonly string[]): string {
  return `${args.map((arg) => `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join('\n')}\n`;
}

/**
 * Runs `run` while `args` sit in an argument file readable by its owner only, deleted afterwards
 * whatever happens: arguments there stay out of `ps` and `/proc/<pid>/cmdline`. The JDK launcher
 * expands `@file` only up to the main class (later ones reach the program verbatim, checked on
 * JDK 17), so `args` must hold the main class and everything after it.
 */
export async function withJavaArgFile<T>(file: string, args: readonly string[], run: () => Promise<T>): Promise<T> {
  // A leftover of a killed run goes first: `wx` then guarantees the file is new, so made with mode 0600.
  await rm(file, { force: true });
  await writeFile(file, javaArgFileText(args), { mode: 0o600, flag: 'wx' });
  try {
    return await run();
  } finally {
    await rm(file, { force: true });
  }
}

/** A JAAS value quoted for `server.properties`; passwords are base64url, so nothing needs escaping. */
const quoted = (value: string) => `"${value}"`;

/**
 * The `server.properties` entries of a secure node.
 *
 * Clients and brokers use the SASL_SSL listener with SCRAM-SHA-512; brokers replicate over it
 * as `admin`. The controller listener (127.0.0.1 only) is SASL_SSL too, with PLAIN and a single
 * user, `admin`: KRaft cannot authenticate controllers with SCRAM (its credentials live in the
 * metadata the controllers serve), and a PLAINTEXT controller listener would need
 * `User:ANONYMOUS` among the super users, making any local process that reaches the port one.
 */
export function secureProperties(stateDir: string, node: { port: number; controllerPort: number }): Record<string, string> {
  const password = readPassword(stateDir, ADMIN_USER);
  return {
    listeners: `SASL_SSL://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
    'advertised.listeners': `SASL_SSL://${HOST}:${node.port}`,
    'inter.broker.listener.name': 'SASL_SSL',
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username=${quoted(ADMIN_USER)} password=${quoted(password)};`,
    'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
    'sasl.mechanism.controller.protocol': 'PLAIN',
    'listener.name.controller.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username=${quoted(ADMIN_USER)} password=${quoted(password)} user_${ADMIN_USER}=${quoted(password)};`,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystoreFile(stateDir),
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': caFile(stateDir),
    'ssl.client.auth': 'none',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    'super.users': `User:${ADMIN_USER}`,
  };
}

/** How the stack's own clients (probes, ACL set-up) connect to a secure stack: as admin, trusting the local CA. */
export interface AdminAuth {
  ca: string;
  username: string;
  password: string;
}

/** The admin's credentials and the CA, for kafkajs. */
export function adminAuth(stateDir: string): AdminAuth {
  return { ca: readFileSync(caFile(stateDir), 'utf8'), username: ADMIN_USER, password: readPassword(stateDir, ADMIN_USER) };
}

/**
 * The registry's Kafka client settings (Quarkus reads `config/application.properties` in its
 * working directory): kept in a file readable by its owner only, not on the command line where
 * `ps` would show the password.
 */
export async function writeRegistryKafkaConfig(stateDir: string, registryDir: string): Promise<void> {
  const dir = join(registryDir, 'config');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const password = readPassword(stateDir, REGISTRY_USER);
  const lines = [
    'apicurio.kafka.common.security.protocol=SASL_SSL',
    'apicurio.kafka.common.sasl.mechanism=SCRAM-SHA-512',
    `apicurio.kafka.common.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=${quoted(REGISTRY_USER)} password=${quoted(password)};`,
    'apicurio.kafka.common.ssl.truststore.type=PEM',
    `apicurio.kafka.common.ssl.truststore.location=${caFile(stateDir)}`,
    `apicurio.kafkasql.consumer.group-prefix=${REGISTRY_GROUP_PREFIX}`,
    // Its events topic too, so that one prefixed ACL covers every topic it makes.
    `apicurio.events.kafka.topic=${REGISTRY_TOPIC_PREFIX}events`,
    '',
  ];
  const file = join(dir, 'application.properties');
  await writeFile(file, lines.join('\n'), { mode: 0o600 });
  await chmod(file, 0o600);
}

// kafkajs is CommonJS and spreads its error classes into its exports, which hides these from Node's named-export detection.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * The registry's ACLs, as admin: everything on its journal topics and consumer groups, nothing
 * else. Idempotent: Kafka keeps one copy of a binding created twice.
 */
export async function grantRegistry(brokers: string[], auth: AdminAuth, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'junction-stack-acls',
    brokers,
    logLevel: logLevel.NOTHING,
    ssl: { ca: [auth.ca] },
    sasl: { mechanism: 'scram-sha-512', username: auth.username, password: auth.password },
    connectionTimeout: 3000,
    requestTimeout: timeoutMs,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  const binding = (resourceType: kafkajs.AclResourceTypes, resourceName: string) => ({
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: `User:${REGISTRY_USER}`,
    host: '*',
    operation: AclOperationTypes.ALL,
    permissionType: AclPermissionTypes.ALLOW,
  });
  try {
    await admin.connect();
    await admin.createAcls({
      acl: [binding(AclResourceTypes.TOPIC, REGISTRY_TOPIC_PREFIX), binding(AclResourceTypes.GROUP, REGISTRY_GROUP_PREFIX)],
    });
  } catch (error) {
    throw new StackError('component-not-ready', `could not grant the registry its ACLs: ${(error as Error).message}`, {
      hint: 'look at the Kafka log (./junction stack logs kafka-1)',
      cause: error,
    });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Options of {@link addScramUsers}. */
export interface AddUsersOptions {
  stateDir: string;
  java: string;
  libs: string;
  brokers: string[];
  users: string[];
}

/**
 * Makes SCRAM users on a running secure cluster, as admin, with Kafka's own ConfigCommand (kafkajs
 * cannot alter SCRAM credentials): for services added to topics.yaml after the stack was made.
 * Passwords go through files readable by their owner only, deleted afterwards, never arguments.
 */
export async function addScramUsers(options: AddUsersOptions): Promise<void> {
  const { stateDir, users } = options;
  if (users.length === 0) return;
  await ensurePasswords(stateDir, users);
  const dir = join(secretsDir(stateDir), 'kafka');
  const clientConfig = join(dir, '.admin-client.properties');
  const admin = readPassword(stateDir, ADMIN_USER);
  await writeFile(
    clientConfig,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=${quoted(ADMIN_USER)} password=${quoted(admin)};`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${caFile(stateDir)}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    for (const user of users) {
      const addConfig = join(dir, `.${user}.scram.properties`);
      // A properties file: ConfigCommand takes the value without the brackets of its command-line form.
      const credential = `iterations=${SCRAM_ITERATIONS},password=${readPassword(stateDir, user)}`;
      await writeFile(addConfig, `SCRAM-SHA-512=${credential}\n`, { mode: 0o600 });
      try {
        const result = await runTool(
          options.java,
          [
            '-cp',
            join(options.libs, '*'),
            'kafka.admin.ConfigCommand',
            '--bootstrap-server',
            options.brokers.join(','),
            '--command-config',
            clientConfig,
            '--alter',
            '--entity-type',
            'users',
            '--entity-name',
            user,
            '--add-config-file',
            addConfig,
          ],
          { timeoutMs: 60_000 },
        );
        if (result.code !== 0) {
          // ConfigCommand quotes a property it refuses, password and all.
          const tail = lastLines(`${result.stdout}\n${result.stderr}`, 10).map((line) => line.replace(/password=[^,\]\s]*/g, 'password=…'));
          throw new StackError('component-not-ready', `could not make Kafka user ${user}: ${tail.at(-1) ?? `exit ${result.code}`}`, {
            hint: 'look at the Kafka log (./junction stack logs kafka-1), or start afresh with ./junction stack down --purge',
            logTail: tail,
          });
        }
      } finally {
        await rm(addConfig, { force: true });
      }
    }
  } finally {
    await rm(clientConfig, { force: true });
  }
}
