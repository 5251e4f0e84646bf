import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Catalog,
  type CompatibilityProblem,
  checkCompatibility,
  type EventContract,
  type RegistryAdmin,
  topicContract,
} from '@junction/events';
import { ASYNCAPI_FILE, generateAsyncApi } from './asyncapi.ts';
import { GENERATED_TYPES_FILE, generateTypes } from './codegen.ts';

/** The verdict on one subject: its local versions, and what the registry thinks of the latest. */
export interface SubjectCheck {
  event: EventContract;
  problems: CompatibilityProblem[];
  /** Set when the registry was asked. */
  registry?: { compatible: boolean; messages: string[]; registered: number[] };
}

/** Every version of every event against the earlier ones, under its topic's compatibility. */
export function checkCatalog(catalog: Catalog): SubjectCheck[] {
  return catalog.events.map((event) => ({
    event,
    problems: checkCompatibility(event.versions, topicContract(catalog, event.topic).compatibility, { subject: event.subject }),
  }));
}

/**
 * Asks the registry whether each subject's latest local version could be registered next. When
 * not, the registered versions are fetched and the local walk names the fields that break.
 */
export async function checkAgainstRegistry(catalog: Catalog, checks: SubjectCheck[], admin: RegistryAdmin): Promise<void> {
  for (const check of checks) {
    const { event } = check;
    const latest = event.versions.at(-1);
    if (!latest) continue;
    const registered = await admin.versions(event.subject).catch((error: unknown) => {
      // A subject the registry has never seen: nothing registered yet.
      if ((error as { code?: unknown } | undefined)?.code === 'schema.unknown') return [] as number[];
      throw error;
    });
    const verdict = await admin.testCompatibility(event.subject, latest.schema);
    check.registry = { ...verdict, registered };
    if (verdict.compatible) continue;
    const mode = topicContract(catalog, event.topic).compatibility;
    const held = await Promise.all(
      registered.map(async (version) => ({ version, schema: (await admin.schemaOf(event.subject, version)).schema })),
    );
    // The local latest is "the next version" after what the registry holds.
    const next = { version: Math.max(latest.version, (registered.at(-1) ?? 0) + 1), schema: latest.schema };
    const found = checkCompatibility([...held, next], mode, { subject: event.subject }).filter(
      (p) => p.from === next.version || p.to === next.version,
    );
    const known = new Set(check.problems.map((p) => p.message));
    check.problems.push(...found.filter((p) => !known.has(p.message)));
  }
}

/** A generated file that differs from what would be generated now. */
export interface StaleFile {
  file: string;
  command: 'codegen' | 'docs';
}

async function readOrEmpty(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** The generated files under `dir` that are missing or differ from what codegen and docs would write now. */
export async function staleFiles(dir: string, catalog: Catalog): Promise<StaleFile[]> {
  const stale: StaleFile[] = [];
  if ((await readOrEmpty(join(dir, GENERATED_TYPES_FILE))) !== generateTypes(catalog))
    stale.push({ file: join(dir, GENERATED_TYPES_FILE), command: 'codegen' });
  if ((await readOrEmpty(join(dir, ASYNCAPI_FILE))) !== generateAsyncApi(catalog))
    stale.push({ file: join(dir, ASYNCAPI_FILE), command: 'docs' });
  return stale;
}
