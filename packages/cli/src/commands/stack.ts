import { join } from 'node:path';
import { type AclChanges, aclBindings, aclRows, applyAcls, type Catalog, kafkaPort, loadCatalog, servicePrincipal } from '@junction/events';
import {
  COMPATIBILITY_LEVELS,
  type Compatibility,
  type ComponentStatus,
  followFile,
  installCommand,
  type MissingServer,
  type RegistryStorage,
  readStackSecurity,
  type ScrapeTarget,
  type Stack,
  type StackOptions,
  stackLogs,
  stackStatus,
  startStack,
  stopAllStacks,
  stopStack,
} from '@junction/stack';
import { Command, Option } from 'commander';
import { integer, portNumber } from '../internal/args.ts';
import { progress, style, table } from '../internal/output.ts';
import { repositoryRoot, stateDir } from '../internal/paths.ts';

/** Flags of `stack up` (and of `up`, which starts the same stack). */
export interface StackUpFlags {
  stateDir?: string;
  brokers?: number;
  kafkaPort?: number;
  registryPort?: number;
  postgresPort?: number;
  redisPort?: number;
  prometheusPort?: number;
  registry: boolean;
  postgres: boolean;
  redis: boolean;
  prometheus: boolean;
  registryStorage?: RegistryStorage;
  compatibility?: Compatibility;
  secure?: boolean;
}

/** Adds the flags that shape a stack to a command. */
export function withStackFlags(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'where data, logs and pids live (default: .junction in the repository)')
    .option('--brokers <n>', 'Kafka nodes (3 gives replication factor 3, min.insync.replicas 2)', integer(1, 5))
    .option('--kafka-port <port>', 'client port of the first broker (default 9092)', portNumber)
    .option('--registry-port <port>', 'port of the schema registry (default 8081)', portNumber)
    .option('--postgres-port <port>', 'port of PostgreSQL (default 5432)', portNumber)
    .option('--redis-port <port>', 'port of Redis (default 6379)', portNumber)
    .option('--prometheus-port <port>', 'port of Prometheus (default 9090)', portNumber)
    .option('--no-registry', 'run Kafka without the schema registry')
    .option('--no-postgres', 'run without PostgreSQL (the outbox and inbox need it)')
    .option('--no-redis', 'run without Redis (shared rate limits and the Redis dedupe store need it)')
    .option('--no-prometheus', "run without Prometheus (it scrapes the services' /metrics and evaluates helm/junction/alerts)")
    .addOption(
      new Option('--registry-storage <kind>', 'where the registry keeps schemas (default kafkasql)').choices(['kafkasql', 'memory']),
    )
    .addOption(new Option('--compatibility <level>', 'global schema compatibility (default FULL_TRANSITIVE)').choices(COMPATIBILITY_LEVELS))
    .option(
      '--secure',
      'Kafka with SASL_SSL (SCRAM-SHA-512 users per service, TLS from a local CA) and ACLs from schemas/topics.yaml; fixed when the stack is created',
    );
}

/** Services that talk to Kafka, each a SCRAM user of a secure stack: everyone the catalog's topics name, and the gateway. */
export function kafkaServiceUsers(catalog: Catalog): string[] {
  const names = catalog.topics.flatMap((topic) => [topic.owner, ...(topic.writers ?? []), ...topic.subscribers]);
  return [...new Set(['gateway', ...names])].sort();
}

/**
 * What Prometheus scrapes: every service `up` runs, at its default port (DESIGN.md), so a service
 * restarted later is seen without a reload; one started on another port is not.
 */
const SERVICE_TARGETS: ScrapeTarget[] = [
  { job: 'gateway', targets: ['127.0.0.1:8080'] },
  { job: 'auth', targets: ['127.0.0.1:8090'] },
  { job: 'orders', targets: ['127.0.0.1:8101'] },
  { job: 'inventory', targets: ['127.0.0.1:8102'] },
  { job: 'billing', targets: ['127.0.0.1:8103'] },
  { job: 'notifications', targets: ['127.0.0.1:8104'] },
];

/**
 * Turns stack flags into {@link StackOptions}. A secure stack's SCRAM users come from the catalog
 * in `schemas`, read and checked as for its ACLs (see {@link applyStackAcls}).
 */
export async function stackOptions(flags: StackUpFlags, schemas = join(repositoryRoot(), 'schemas')): Promise<StackOptions> {
  const kafkaUsers = flags.secure ? kafkaServiceUsers(await loadCatalog(schemas)) : undefined;
  const ports = {
    ...(flags.kafkaPort ? { kafka: flags.kafkaPort } : {}),
    ...(flags.registryPort ? { registry: flags.registryPort } : {}),
    ...(flags.postgresPort ? { postgres: flags.postgresPort } : {}),
    ...(flags.redisPort ? { redis: flags.redisPort } : {}),
    ...(flags.prometheusPort ? { prometheus: flags.prometheusPort } : {}),
  };
  return {
    stateDir: stateDir(flags.stateDir),
    ...(flags.brokers ? { brokers: flags.brokers } : {}),
    ports,
    registry: flags.registry
      ? {
          ...(flags.registryStorage ? { storage: flags.registryStorage } : {}),
          ...(flags.compatibility ? { compatibility: flags.compatibility } : {}),
        }
      : false,
    // Without the flag, the stack decides: PostgreSQL unless it was made without.
    ...(flags.postgres ? {} : { postgres: false }),
    ...(flags.redis ? {} : { redis: false }),
    // The stack runs Prometheus only when asked: the CLI asks, with the chart's alert rules
    // (the same files the chart ships; a glob, so none yet is fine).
    prometheus: flags.prometheus ? { targets: SERVICE_TARGETS, ruleFiles: [join(repositoryRoot(), 'helm/junction/alerts/*.yaml')] } : false,
    ...(kafkaUsers ? { secure: true, kafkaUsers } : {}),
    // A newcomer's machine may lack a server the wrapper could not install: the stack starts
    // without it, and printMissing says what that costs and how to restore it.
    optionalServers: true,
    onProgress: progress,
  };
}

/** What a stack goes without when this machine lacks the server of a component. */
const WITHOUT: Record<MissingServer['name'], string> = {
  postgres: 'no PostgreSQL: outboxes and inboxes fall back to embedded PGlite files, one process each',
  redis: "no Redis: rate limits and Idempotency-Key claims live in the gateway's memory, not shared by replicas, lost on restart",
  prometheus: "no Prometheus: nothing scrapes the services' /metrics, and the alert rules are not evaluated",
};

/**
 * Says which features a stack started without because this machine lacks their servers, and
 * the one command that restores them. Nothing when it lacks none.
 */
export function printMissing(stack: Pick<Stack, 'missing'>): void {
  if (stack.missing.length === 0) return;
  console.log(`\n${style('yellow', 'This machine lacks some servers, so Junction runs with reduced features:')}`);
  console.log(
    table(
      ['COMPONENT', 'WITHOUT IT'],
      stack.missing.map((m) => [m.name, WITHOUT[m.name]]),
    ),
  );
  const packages = [...new Set(stack.missing.map((m) => m.package))];
  console.log(`Restore them: ${style('bold', installCommand(packages))}, then run this command again.`);
}

const stateCell = (c: ComponentStatus): string => {
  switch (c.state) {
    case 'running':
      return style('green', 'running');
    case 'stopped':
      return style('dim', 'stopped');
    case 'exited':
      return style('red', 'exited');
  }
};

const healthCell = (c: ComponentStatus): string => {
  if (c.healthy === undefined) return c.detail ? style('red', c.detail) : '-';
  return c.healthy ? style('green', `ok (${c.detail})`) : style('red', `failing: ${c.detail}`);
};

/**
 * Prints the status table of the stack in `dir`; true when every component runs and answers.
 * Components in `leftOut` (this machine lacks their server) read so, and do not count.
 */
export async function printStatus(dir: string, leftOut: readonly MissingServer[] = []): Promise<boolean> {
  const status = await stackStatus({ stateDir: dir });
  if (!status.exists) {
    console.log(`No stack in ${dir}. Start one with ./junction stack up`);
    return false;
  }
  console.log(
    table(
      ['COMPONENT', 'STATE', 'PID', 'PORT', 'VERSION', 'HEALTH'],
      status.components.map((c) => {
        const missing = c.state !== 'running' && leftOut.find((m) => m.name === c.name);
        return missing
          ? [c.name, style('yellow', 'left out'), '-', String(c.port), c.version, `no server here (${installCommand([missing.package])})`]
          : [c.name, stateCell(c), c.pid ? String(c.pid) : '-', String(c.port), c.version, healthCell(c)];
      }),
    ),
  );
  return status.components.every((c) => (c.state === 'running' && c.healthy) || leftOut.some((m) => m.name === c.name));
}

/**
 * Makes the ACLs of a secure stack follow schemas/topics.yaml (see `aclBindings`), as its
 * admin, and prints what changed; every service user's other bindings are removed. Nothing
 * (undefined) for a plaintext stack. `stack up` and `up` call it after the stack starts.
 */
export async function applyStackAcls(
  stack: Pick<Stack, 'security'>,
  options: { schemas?: string; quiet?: boolean } = {},
): Promise<AclChanges | undefined> {
  const security = stack.security;
  if (!security) return undefined;
  const bindings = aclBindings(await loadCatalog(options.schemas ?? join(repositoryRoot(), 'schemas')));
  const services = security.users.filter((user) => user !== 'admin' && user !== 'registry');
  const kafka = kafkaPort(security.connection('admin'), {
    clientId: 'junction-cli-acls',
    connectionTimeoutMs: 5000,
    requestTimeoutMs: 15_000,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const changes = await applyAcls(admin, bindings, { principals: services.map(servicePrincipal) });
    if (!options.quiet) {
      const what = [
        changes.added.length ? `${changes.added.length} added` : '',
        changes.removed.length ? `${changes.removed.length} removed` : '',
        `${changes.unchanged} unchanged`,
      ].filter(Boolean);
      console.log(`Kafka ACLs follow schemas/topics.yaml: ${what.join(', ')} (./junction stack acls shows them).`);
      for (const b of changes.removed)
        console.log(
          style('yellow', `  removed ${b.principal} ${b.operation} ${b.resourceType.toLowerCase()} ${b.resourceName} (${b.patternType})`),
        );
    }
    return changes;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Prints where clients connect. */
export function printEndpoints(
  stack: Pick<Stack, 'brokers' | 'schemaRegistryUrl' | 'postgresUrl' | 'redisUrl' | 'prometheusUrl' | 'stateDir'> &
    Partial<Pick<Stack, 'security'>>,
): void {
  console.log('');
  console.log(`  Kafka bootstrap   ${style('bold', stack.brokers.join(','))}${stack.security ? ' (SASL_SSL, SCRAM-SHA-512)' : ''}`);
  if (stack.security) {
    console.log(`  Kafka CA          ${style('bold', stack.security.caFile)}`);
    console.log(`  Kafka users       ${stack.security.users.join(', ')} (passwords in ${join(stack.stateDir, 'secrets', 'kafka')})`);
  }
  if (stack.schemaRegistryUrl) console.log(`  Schema registry   ${style('bold', stack.schemaRegistryUrl)}`);
  if (stack.postgresUrl) console.log(`  PostgreSQL        ${style('bold', stack.postgresUrl)}`);
  if (stack.redisUrl) console.log(`  Redis             ${style('bold', stack.redisUrl)}`);
  if (stack.prometheusUrl) console.log(`  Prometheus        ${style('bold', stack.prometheusUrl)}`);
  console.log(`  State and logs    ${stack.stateDir}`);
}

/** `junction stack …`: the local infrastructure. */
export function stackCommand(): Command {
  const stack = new Command('stack').description(
    'start, stop and inspect the local Kafka, schema registry, PostgreSQL, Redis and Prometheus',
  );

  withStackFlags(
    stack.command('up').description('start the local stack (or report the one already running) and return when it answers'),
  ).action(async (flags: StackUpFlags) => {
    const started = await startStack(await stackOptions(flags));
    console.log(started.alreadyRunning ? 'The stack was already running.' : `Started ${started.started.join(', ')}.`);
    await printStatus(started.stateDir, started.missing);
    await applyStackAcls(started);
    printEndpoints(started);
    printMissing(started);
  });

  stack
    .command('acls')
    .description('show the Kafka ACLs that schemas/topics.yaml implies for a secure stack (--apply: make the running one follow it)')
    .option('--schemas <dir>', 'the schemas directory (default: schemas/ in the repository)')
    .option('--state-dir <dir>', 'the stack to apply them to, with --apply (default: .junction in the repository)')
    .option('--apply', 'make the running secure stack hold exactly these ACLs for its service users')
    .addHelpText(
      'after',
      `
Each service authenticates as a SCRAM user named after it (User:<service>) and may:
  - WRITE and DESCRIBE the topics it owns, or is listed under writers of;
  - READ and DESCRIBE the topics it subscribes to, as consumer group <service>;
  - CREATE, WRITE, READ and DESCRIBE topics prefixed <service>. (its retry and dead-letter topics).
Nothing else. admin (the super user) runs the operators' tools; the registry has its own user.`,
    )
    .action(async (flags: { schemas?: string; stateDir?: string; apply?: boolean }) => {
      const schemas = flags.schemas ?? join(repositoryRoot(), 'schemas');
      const bindings = aclBindings(await loadCatalog(schemas));
      console.log(table(['PRINCIPAL', 'RESOURCE', 'PATTERN', 'OPERATION'], aclRows(bindings)));
      if (!flags.apply) return;
      const dir = stateDir(flags.stateDir);
      const security = await readStackSecurity(dir);
      if (!security) throw new Error(`the stack in ${dir} is not secure; start one with ./junction stack up --secure`);
      console.log('');
      await applyStackAcls({ security }, { schemas });
    });

  stack
    .command('down')
    .description('stop every process the stack started (and no other)')
    .option('--state-dir <dir>', 'the stack to stop (default: .junction in the repository)')
    .option('--purge', 'also delete its data (topics, schemas, databases, logs)')
    .option('--all', 'also stop the throwaway test stacks under the state directory')
    .action(async (flags: { stateDir?: string; purge?: boolean; all?: boolean }) => {
      const dir = stateDir(flags.stateDir);
      const purge = flags.purge === true;
      const results = flags.all
        ? await stopAllStacks(dir, { purge })
        : [{ stateDir: dir, stopped: await stopStack({ stateDir: dir, purge }) }];
      const stopped = results.filter((r) => r.stopped.length > 0);
      if (stopped.length === 0) console.log('Nothing was running.');
      for (const r of stopped) console.log(`Stopped ${r.stopped.join(', ')} (${r.stateDir}).`);
      if (flags.purge) console.log('Data deleted.');
    });

  stack
    .command('status')
    .description('show each component with pid, port, version and health; exit 1 unless all are healthy')
    .option('--state-dir <dir>', 'the stack to inspect (default: .junction in the repository)')
    .option('--json', 'print JSON instead of a table')
    .action(async (flags: { stateDir?: string; json?: boolean }) => {
      const dir = stateDir(flags.stateDir);
      if (flags.json) {
        const status = await stackStatus({ stateDir: dir });
        console.log(JSON.stringify(status, null, 2));
        process.exitCode = status.exists && status.components.every((c) => c.healthy) ? 0 : 1;
        return;
      }
      process.exitCode = (await printStatus(dir)) ? 0 : 1;
    });

  stack
    .command('logs')
    .description("show the last lines of the components' logs")
    .argument('[component]', 'kafka-1, kafka-2, …, registry, postgres, redis or prometheus (default: all)')
    .option('--state-dir <dir>', 'the stack to read (default: .junction in the repository)')
    .option('-n, --lines <n>', 'lines per component', integer(1, 100_000), 40)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(async (component: string | undefined, flags: { stateDir?: string; lines: number; follow?: boolean }) => {
      const dir = stateDir(flags.stateDir);
      const logs = await stackLogs({ stateDir: dir, lines: flags.lines, ...(component ? { component } : {}) });
      if (logs.length === 0) {
        const status = await stackStatus({ stateDir: dir });
        const names = status.components.map((c) => c.name).join(', ');
        throw new Error(
          status.exists
            ? `no component named "${component}"; the stack has ${names}`
            : `no stack in ${dir}; start one with ./junction stack up`,
        );
      }
      const prefix = (name: string) => (logs.length > 1 ? `${style('dim', name.padEnd(9))} ` : '');
      for (const log of logs) {
        if (logs.length > 1) console.log(style('bold', `==> ${log.name} (${log.logFile}) <==`));
        for (const line of log.lines) console.log(line);
      }
      if (!flags.follow) return;
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await Promise.all(logs.map((log) => followFile(log.logFile, (line) => console.log(`${prefix(log.name)}${line}`), stop.signal)));
    });

  return stack;
}
