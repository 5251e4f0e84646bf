import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { JunctionError } from '@junction/observability';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { piiSchemaProblems } from '../pii/plan.ts';
import type { AvroSchema } from './avro.ts';
import {
  type Catalog,
  CLEANUP_POLICIES,
  COMPATIBILITY_MODES,
  type EventContract,
  type EventVersion,
  schemaProblems,
  subjectName,
  type TopicContract,
} from './catalog.ts';

const TOPIC_NAME = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*(\.v[2-9]\d*)?$/;
const FULLNAME = /^com\.junction\.([a-z][a-z0-9]*)\.([A-Z][A-Za-z0-9]*)$/;
const VERSION_FILE = /^v([1-9]\d*)\.avsc$/;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const topicEntry = z.strictObject({
  description: z.string().min(1),
  owner: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a service name in lower case'),
  partitions: z.number().int().min(1).max(1000),
  retention: z.union([z.literal('forever'), z.string().regex(DURATION, 'a duration like 7d, 12h, 30m, or forever')]),
  cleanupPolicy: z.enum(CLEANUP_POLICIES),
  compatibility: z.enum(COMPATIBILITY_MODES).default('FULL_TRANSITIVE'),
  keyField: z.string().min(1),
  events: z.array(z.string().regex(FULLNAME, 'a record fullname com.junction.<domain>.<EventName>')).min(1),
  subscribers: z.array(z.string()).default([]),
  writers: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'a service name in lower case')).default([]),
});

const topicsFile = z.strictObject({ topics: z.record(z.string().regex(TOPIC_NAME, 'a topic name <domain>.<aggregate>'), topicEntry) });

/** `7d` → milliseconds; `forever` → -1. */
export function parseRetention(text: string): number {
  if (text === 'forever') return -1;
  const match = DURATION.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

async function subdirectories(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** The type of a top-level field, with a nullable union or logical type unwrapped to its base. */
function keyFieldType(schema: AvroSchema, field: string): string | undefined {
  const fields = (schema.fields ?? []) as Array<{ name: string; type: unknown }>;
  const found = fields.find((f) => f.name === field);
  if (!found) return undefined;
  const type = found.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return 'union';
  return String((type as { type?: unknown }).type);
}

/** Reads one schema file: JSON, a record named after its path, buildable by avsc, key field a string. */
async function readVersion(dir: string, file: string, expected: { namespace: string; name: string; keyField: string }, problems: string[]) {
  const where = relative(dir, file);
  let schema: AvroSchema;
  try {
    schema = JSON.parse(await readFile(file, 'utf8')) as AvroSchema;
  } catch (error) {
    problems.push(`${where}: not valid JSON (${(error as Error).message})`);
    return undefined;
  }
  const before = problems.length;
  if (schema.type !== 'record') problems.push(`${where}: must be a record schema, not ${JSON.stringify(schema.type)}`);
  if (schema.name !== expected.name)
    problems.push(`${where}: record name must be ${expected.name} (its directory), not ${JSON.stringify(schema.name)}`);
  if (schema.namespace !== expected.namespace) {
    problems.push(`${where}: namespace must be ${expected.namespace} (its domain directory), not ${JSON.stringify(schema.namespace)}`);
  }
  if (typeof schema.doc !== 'string' || !schema.doc) problems.push(`${where}: needs a "doc" saying what happened`);
  for (const message of schemaProblems(schema)) problems.push(`${where}: not a valid Avro schema: ${message}`);
  for (const message of piiSchemaProblems(schema, { keyField: expected.keyField })) problems.push(`${where}: "junction.pii" at ${message}`);
  const keyType = keyFieldType(schema, expected.keyField);
  if (keyType === undefined) problems.push(`${where}: has no field ${expected.keyField}, the key field of its topic`);
  else if (keyType !== 'string')
    problems.push(`${where}: key field ${expected.keyField} must be a non-null string (or uuid), not ${keyType}`);
  return problems.length === before ? schema : undefined;
}

/**
 * Reads `schemas/`: `topics.yaml` and every `<domain>/<EventName>/v<N>.avsc`, checked against
 * each other. Every problem is reported at once, each with its file and place, in one
 * `config.invalid` error.
 */
export async function loadCatalog(dir: string): Promise<Catalog> {
  const problems: string[] = [];
  const topicsPath = join(dir, 'topics.yaml');
  let text: string;
  try {
    text = await readFile(topicsPath, 'utf8');
  } catch (error) {
    throw new JunctionError('config.invalid', `cannot read ${topicsPath}: ${(error as Error).message}`, { cause: error });
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length) {
    throw new JunctionError('config.invalid', `topics.yaml is not valid YAML:\n${document.errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
  const parsed = topicsFile.safeParse(document.toJS());
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `topics.yaml: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new JunctionError('config.invalid', `schemas are not valid:\n${lines.map((l) => `  ${l}`).join('\n')}`, {
      context: { problems: lines },
    });
  }

  const topics: TopicContract[] = [];
  const events: EventContract[] = [];
  const listed = new Map<string, string>();
  for (const [name, entry] of Object.entries(parsed.data.topics)) {
    const domain = name.split('.')[0] ?? name;
    if (entry.writers.includes(entry.owner))
      problems.push(`topics.yaml: topics.${name}.writers: ${entry.owner} is the owner; list only other services`);
    topics.push({
      name,
      description: entry.description,
      owner: entry.owner,
      partitions: entry.partitions,
      retentionMs: parseRetention(entry.retention),
      cleanupPolicy: entry.cleanupPolicy,
      compatibility: entry.compatibility,
      keyField: entry.keyField,
      events: entry.events,
      subscribers: entry.subscribers,
      ...(entry.writers.length > 0 ? { writers: entry.writers } : {}),
    });
    for (const type of entry.events) {
      const [, eventDomain = '', eventName = ''] = FULLNAME.exec(type) ?? [];
      const previous = listed.get(type);
      if (previous) {
        problems.push(`topics.yaml: ${type} is listed on ${previous} and on ${name}; an event type belongs to one topic`);
        continue;
      }
      listed.set(type, name);
      if (eventDomain !== domain)
        problems.push(`topics.yaml: topics.${name}: ${type} is not of domain ${domain} (com.junction.${domain}.*)`);
      const eventDir = join(dir, eventDomain, eventName);
      const files = (await readdir(eventDir).catch(() => [] as string[])).filter((f) => f.endsWith('.avsc')).sort();
      const numbers = files.map((f) => Number(VERSION_FILE.exec(f)?.[1] ?? Number.NaN));
      files.forEach((file, i) => {
        if (Number.isNaN(numbers[i])) problems.push(`${relative(dir, join(eventDir, file))}: schema files are named v<N>.avsc`);
      });
      const versionNumbers = numbers.filter((n) => !Number.isNaN(n)).sort((a, b) => a - b);
      if (!versionNumbers.length) {
        problems.push(`topics.yaml: topics.${name}: ${type} has no schema; add ${relative(dir, join(eventDir, 'v1.avsc'))}`);
        continue;
      }
      versionNumbers.forEach((n, i) => {
        if (n !== i + 1) problems.push(`${relative(dir, eventDir)}: versions must run v1, v2, … without gaps; v${i + 1} is missing`);
      });
      const versions: EventVersion[] = [];
      for (const n of versionNumbers) {
        const file = join(eventDir, `v${n}.avsc`);
        const schema = await readVersion(
          dir,
          file,
          { namespace: `com.junction.${eventDomain}`, name: eventName, keyField: entry.keyField },
          problems,
        );
        if (schema) versions.push({ version: n, ceType: `${type}.v${n}`, file: relative(dir, file), schema });
      }
      events.push({
        type,
        name: eventName,
        domain: eventDomain,
        topic: name,
        keyField: entry.keyField,
        subject: subjectName(name, type),
        versions,
      });
    }
  }

  // A schema nobody publishes is a contract nobody keeps: every event directory must be listed.
  for (const domain of await subdirectories(dir)) {
    for (const eventName of await subdirectories(join(dir, domain))) {
      const type = `com.junction.${domain}.${eventName}`;
      const hasSchemas = (await readdir(join(dir, domain, eventName))).some((f) => f.endsWith('.avsc'));
      if (hasSchemas && !listed.has(type)) problems.push(`${domain}/${eventName}: ${type} is on no topic in topics.yaml`);
    }
  }

  if (problems.length) {
    throw new JunctionError('config.invalid', `schemas are not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      context: { problems },
    });
  }
  return { topics, events };
}
