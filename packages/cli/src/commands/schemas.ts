import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { type Catalog, createRegistryAdmin, ensureTopics, type KafkaConnection, loadCatalog, type RegistryAdmin } from '@junction/events';
import { Command } from 'commander';
import { brokersOf, cliConnection, cliKafka } from '../internal/kafka.ts';
import { style, table } from '../internal/output.ts';
import { repositoryRoot } from '../internal/paths.ts';
import { ASYNCAPI_FILE, generateAsyncApi } from '../internal/schemas/asyncapi.ts';
import { validateAsyncApi } from '../internal/schemas/avro-schema-parser.ts';
import { checkAgainstRegistry, checkCatalog, type SubjectCheck, staleFiles } from '../internal/schemas/check.ts';
import { GENERATED_TYPES_FILE, generateTypes } from '../internal/schemas/codegen.ts';

/** Where `./junction up` serves the registry's Confluent-compatible API. */
export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7';
/** Where `./junction up` serves Kafka. */
export const DEFAULT_BROKERS = '127.0.0.1:9092';

const START_HINT = 'start the local stack with ./junction up (or ./junction stack up), or point --brokers / --registry at a running one';

/** The schemas directory: `--dir`, or schemas/ in the repository. */
export const schemasDir = (flag?: string): string => resolve(flag ?? join(repositoryRoot(), 'schemas'));
const shown = (path: string): string => relative(process.cwd(), path) || path;
const registryUrl = (flag?: string | boolean): string =>
  typeof flag === 'string' ? flag : (process.env.JUNCTION_SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY_URL);

/** Fails with one line saying what to do when the registry does not answer. */
async function reachable<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === 'registry.unavailable' || code === 'broker.unavailable' || code === 'timeout') {
      throw new Error(`${what} does not answer → ${START_HINT}`, { cause: error });
    }
    throw error;
  }
}

function resultCell(check: SubjectCheck): string {
  if (check.problems.length) return style('red', `FAIL (${check.problems.length} problem${check.problems.length > 1 ? 's' : ''})`);
  if (!check.registry) return style('green', 'ok');
  const held = check.registry.registered.length ? `registry has v${check.registry.registered.join(', v')}` : 'new to the registry';
  return check.registry.compatible ? style('green', `ok (${held})`) : style('red', `FAIL: registry refuses (${held})`);
}

async function check(flags: { dir?: string; registry?: string | boolean }): Promise<void> {
  const dir = schemasDir(flags.dir);
  const catalog = await loadCatalog(dir);
  const checks = checkCatalog(catalog);
  const url = flags.registry === undefined ? undefined : registryUrl(flags.registry);
  if (url)
    await reachable(`the schema registry at ${url}`, () =>
      checkAgainstRegistry(catalog, checks, createRegistryAdmin({ registryUrl: url, retries: 2 })),
    );
  const mode = (topic: string) => catalog.topics.find((t) => t.name === topic)?.compatibility ?? '?';
  console.log(
    table(
      ['SUBJECT', 'VERSIONS', 'COMPATIBILITY', 'RESULT'],
      checks.map((c) => [c.event.subject, c.event.versions.map((v) => `v${v.version}`).join(' '), mode(c.event.topic), resultCell(c)]),
    ),
  );
  let failed = false;
  for (const c of checks) {
    for (const problem of c.problems) {
      failed = true;
      console.log(`${style('red', 'incompatible:')} ${c.event.subject}: ${problem.message}`);
    }
    if (c.registry && !c.registry.compatible) {
      failed = true;
      if (!c.problems.length)
        console.log(`${style('red', 'incompatible:')} ${c.event.subject}: the registry refuses v${c.event.versions.at(-1)?.version}`);
      for (const message of c.registry.messages) console.log(`  registry: ${message}`);
    }
  }
  for (const stale of await staleFiles(dir, catalog)) {
    failed = true;
    console.log(`${style('red', 'stale:')} ${shown(stale.file)} differs from the schemas: run ./junction schemas ${stale.command}`);
  }
  if (failed) process.exitCode = 1;
  else console.log(`\nAll ${checks.length} subjects are compatible${url ? ' with the registry' : ''}; generated files are up to date.`);
}

/** Creates the catalog's topics and prints a table of them; false when an existing topic drifted from the file. */
export async function registerTopics(
  catalog: Catalog,
  target: string[] | KafkaConnection,
  print: (line: string) => void = console.log,
): Promise<boolean> {
  const brokers = Array.isArray(target) ? target : target.brokers;
  const admin = cliKafka(target).admin();
  try {
    await reachable(`Kafka at ${brokers.join(',')}`, async () => {
      await admin.connect().catch((error: unknown) => {
        throw Object.assign(new Error(String((error as Error)?.message ?? error)), { code: 'broker.unavailable' });
      });
    });
    const result = await reachable(`Kafka at ${brokers.join(',')}`, () => ensureTopics(admin, catalog, { timeoutMs: 30_000 }));
    const drifted = new Set(result.drift.map((d) => d.topic));
    const status = (name: string) =>
      result.created.includes(name) ? style('green', 'created') : drifted.has(name) ? style('yellow', 'unchanged (drift)') : 'unchanged';
    print(
      table(
        ['TOPIC', 'PARTITIONS', 'RETENTION.MS', 'CLEANUP.POLICY', 'STATUS'],
        catalog.topics.map((t) => [t.name, String(t.partitions), String(t.retentionMs), t.cleanupPolicy, status(t.name)]),
      ),
    );
    for (const d of result.drift) {
      print(
        `${style('yellow', 'warning:')} drift on ${d.topic}: ${d.setting} is ${d.cluster} in the cluster but ${d.file} in topics.yaml (not changed: ${
          d.setting === 'partitions'
            ? 'more partitions move keys and break per-key order'
            : 'change it with kafka-configs or fix topics.yaml'
        })`,
      );
    }
    return result.drift.length === 0;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Registers every version of every subject with its topic's compatibility and prints a table; false when one was refused. */
export async function registerSubjects(
  catalog: Catalog,
  admin: RegistryAdmin,
  print: (line: string) => void = console.log,
): Promise<boolean> {
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const event of catalog.events) {
    const mode = catalog.topics.find((t) => t.name === event.topic)?.compatibility ?? 'FULL_TRANSITIVE';
    await admin.setCompatibility(event.subject, mode);
    const ids: string[] = [];
    for (const version of event.versions) {
      try {
        ids.push(String(await admin.register(event.subject, version.schema)));
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'schema.incompatible') throw error;
        ids.push(style('red', 'refused'));
        failures.push(
          `${event.subject} v${version.version}: ${(error as Error).message} → run ./junction schemas check --registry to see why`,
        );
        break;
      }
    }
    rows.push([event.subject, event.versions.map((v) => `v${v.version}`).join(' '), mode, ids.join(' ')]);
  }
  print(table(['SUBJECT', 'VERSIONS', 'COMPATIBILITY', 'SCHEMA IDS'], rows));
  for (const failure of failures) print(`${style('red', 'refused:')} ${failure}`);
  return failures.length === 0;
}

async function register(flags: { dir?: string; brokers?: string; registry?: string }): Promise<void> {
  const catalog = await loadCatalog(schemasDir(flags.dir));
  const brokers = brokersOf(flags.brokers, DEFAULT_BROKERS);
  const url = registryUrl(flags.registry);
  const topicsOk = await registerTopics(catalog, await cliConnection(brokers));
  console.log('');
  const subjectsOk = await reachable(`the schema registry at ${url}`, () =>
    registerSubjects(catalog, createRegistryAdmin({ registryUrl: url, retries: 2 })),
  );
  if (!topicsOk || !subjectsOk) process.exitCode = 1;
}

/** Writes `text` to `path`, or with `check` only compares; true when the file is (now) up to date. */
async function writeOrCheck(path: string, text: string, flags: { check?: boolean; command: string }): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (flags.check) {
    if (current === text) {
      console.log(`${shown(path)} is up to date.`);
      return true;
    }
    console.log(
      `${style('red', 'stale:')} ${shown(path)} ${current === undefined ? 'is missing' : 'differs from the schemas'}: run ./junction schemas ${flags.command}`,
    );
    return false;
  }
  await mkdir(dirname(path), { recursive: true });
  if (current !== text) await writeFile(path, text);
  console.log(`${current === text ? 'Unchanged' : 'Wrote'} ${shown(path)}.`);
  return true;
}

const withDir = (command: Command): Command => command.option('--dir <dir>', 'the schemas directory (default: schemas/ in the repository)');

/** `junction schemas …`: the event contracts in schemas/. */
export function schemasCommand(): Command {
  const schemas = new Command('schemas').description('check, register and generate code and docs from the event contracts in schemas/');

  withDir(schemas.command('check'))
    .description('check every schema version against the earlier ones and the generated files against the schemas; exit 1 on any problem')
    .option(
      '--registry [url]',
      `also test each subject's latest version against the registry (default: $JUNCTION_SCHEMA_REGISTRY_URL or ${DEFAULT_REGISTRY_URL})`,
    )
    .action(check);

  withDir(schemas.command('register'))
    .description(
      "create the topics of topics.yaml (reporting drift of existing ones) and register every schema version with its topic's compatibility",
    )
    .option('--brokers <list>', `Kafka bootstrap servers (default: $JUNCTION_KAFKA_BROKERS or ${DEFAULT_BROKERS})`)
    .option(
      '--registry <url>',
      `the registry's Confluent-compatible API (default: $JUNCTION_SCHEMA_REGISTRY_URL or ${DEFAULT_REGISTRY_URL})`,
    )
    .action(register);

  withDir(schemas.command('codegen'))
    .description(`write the TypeScript event types and catalog to schemas/${GENERATED_TYPES_FILE}`)
    .option('--check', 'only report whether the file is up to date (exit 1 when stale)')
    .action(async (flags: { dir?: string; check?: boolean }) => {
      const dir = schemasDir(flags.dir);
      const ok = await writeOrCheck(join(dir, GENERATED_TYPES_FILE), generateTypes(await loadCatalog(dir)), {
        ...flags,
        command: 'codegen',
      });
      if (!ok) process.exitCode = 1;
    });

  withDir(schemas.command('docs'))
    .description(`write the AsyncAPI 3.0 document of the topics and events to schemas/${ASYNCAPI_FILE}, validated`)
    .option('--check', 'only report whether the file is up to date (exit 1 when stale)')
    .action(async (flags: { dir?: string; check?: boolean }) => {
      const dir = schemasDir(flags.dir);
      const text = generateAsyncApi(await loadCatalog(dir));
      const errors = (await validateAsyncApi(text)).filter((p) => p.severity === 'error');
      for (const error of errors) console.log(`${style('red', 'invalid:')} ${error.path}: ${error.message}`);
      if (errors.length) throw new Error(`the generated AsyncAPI document has ${errors.length} error(s); ${ASYNCAPI_FILE} was not written`);
      if (!(await writeOrCheck(join(dir, ASYNCAPI_FILE), text, { ...flags, command: 'docs' }))) process.exitCode = 1;
    });

  return schemas;
}
