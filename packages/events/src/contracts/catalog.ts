import { JunctionError } from '@junction/observability';
import { type AvroSchema, avroType } from './avro.ts';

/** Schema compatibility modes, as the registry names them. */
export const COMPATIBILITY_MODES = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

/** A schema compatibility mode. */
export type Compatibility = (typeof COMPATIBILITY_MODES)[number];

/** Kafka cleanup policies a topic may have. */
export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;

/** One topic of `topics.yaml`. */
export interface TopicContract {
  name: string;
  description: string;
  /** The service that writes the topic and answers for it. */
  owner: string;
  /** Other services allowed to write it (e.g. the gateway, for HTTP callers); none when absent. */
  writers?: readonly string[];
  partitions: number;
  /** `retention.ms`; -1 keeps records forever. */
  retentionMs: number;
  cleanupPolicy: (typeof CLEANUP_POLICIES)[number];
  compatibility: Compatibility;
  /** The top-level field of every event on the topic that is the record key. */
  keyField: string;
  /** Record fullnames of the events on the topic. */
  events: readonly string[];
  /** Services that read the topic. */
  subscribers: readonly string[];
}

/** One version of an event's schema, `schemas/<domain>/<EventName>/v<N>.avsc`. */
export interface EventVersion {
  version: number;
  /** The CloudEvents type, `<fullname>.v<N>`. */
  ceType: string;
  /** Path of the schema file, relative to the schemas directory. */
  file: string;
  schema: AvroSchema;
}

/** An event type: its topic, key and every version of its schema, oldest first. */
export interface EventContract {
  /** The record fullname, `com.junction.<domain>.<EventName>`. */
  type: string;
  name: string;
  domain: string;
  topic: string;
  keyField: string;
  /** The registry subject, `<topic>-<fullname>` (TopicRecordNameStrategy). */
  subject: string;
  versions: readonly EventVersion[];
}

/**
 * Every topic and event of `schemas/`, as plain data: from `loadCatalog`, or the `catalog`
 * constant of the generated `schemas/generated/events.ts` (deeply readonly, hence the readonly arrays).
 */
export interface Catalog {
  topics: readonly TopicContract[];
  events: readonly EventContract[];
}

/**
 * The registry subject of an event under TopicRecordNameStrategy, `<topic>-<record fullname>`:
 * one topic carries several event types, each evolving on its own.
 */
export function subjectName(topic: string, recordFullName: string): string {
  return `${topic}-${recordFullName}`;
}

/** The contract of event `type` (record fullname); `schema.unknown` when the catalog has none. */
export function eventContract(catalog: Catalog, type: string): EventContract {
  const contract = catalog.events.find((event) => event.type === type);
  if (!contract) {
    throw new JunctionError(
      'schema.unknown',
      `no event type ${type} in the catalog; known types: ${catalog.events.map((e) => e.type).join(', ')}`,
      {
        context: { type },
      },
    );
  }
  return contract;
}

/** Version `version` of an event, or its latest. */
export function eventVersion(contract: EventContract, version?: number): EventVersion {
  const found = version === undefined ? contract.versions.at(-1) : contract.versions.find((v) => v.version === version);
  if (!found) {
    throw new JunctionError(
      'schema.unknown',
      `${contract.type} has no version ${version}; it has ${contract.versions.map((v) => `v${v.version}`).join(', ')}`,
      {
        context: { type: contract.type, version },
      },
    );
  }
  return found;
}

/** The topic named `name`. */
export function topicContract(catalog: Catalog, name: string): TopicContract {
  const topic = catalog.topics.find((t) => t.name === name);
  if (!topic) throw new JunctionError('schema.unknown', `no topic ${name} in the catalog`, { context: { topic: name } });
  return topic;
}

/**
 * The same catalog with every topic renamed (and its subjects with it): per-environment
 * prefixes, or a private copy of the topics for one test.
 */
export function renameTopics(catalog: Catalog, rename: (topic: string) => string): Catalog {
  return {
    topics: catalog.topics.map((topic) => ({ ...topic, name: rename(topic.name) })),
    events: catalog.events.map((event) => ({
      ...event,
      topic: rename(event.topic),
      subject: subjectName(rename(event.topic), event.type),
    })),
  };
}

/** Dotted paths of the fields marked `"junction.pii": true` in `schema`. */
export function piiFields(schema: AvroSchema): string[] {
  const found: string[] = [];
  const walk = (node: unknown, path: string[], seen: Set<unknown>): void => {
    if (Array.isArray(node)) {
      for (const branch of node) walk(branch, path, seen);
      return;
    }
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const record = node as { type?: unknown; fields?: unknown; items?: unknown; values?: unknown };
    if (Array.isArray(record.fields)) {
      for (const field of record.fields as Array<Record<string, unknown>>) {
        const here = [...path, String(field.name)];
        if (field['junction.pii'] === true) found.push(here.join('.'));
        walk(field.type, here, seen);
      }
    }
    walk(record.items, path, seen);
    walk(record.values, path, seen);
    if (typeof record.type === 'object') walk(record.type, path, seen);
  };
  walk(schema, [], new Set());
  return found;
}

/**
 * The names of every personal field of the catalog's events, any version — the last segment of
 * each `piiFields` path, which is what a logger's redaction matches (`customerEmail`, `line1`).
 */
export function catalogPiiNames(catalog: Catalog): string[] {
  const names = new Set<string>();
  for (const event of catalog.events)
    for (const version of event.versions) for (const path of piiFields(version.schema)) names.add(path.split('.').at(-1) as string);
  return [...names].sort();
}

/** Checks that a record schema can be built and returns the problems, for catalog validation. */
export function schemaProblems(schema: AvroSchema): string[] {
  try {
    avroType(schema);
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}
