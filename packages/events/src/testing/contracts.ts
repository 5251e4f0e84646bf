import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Admin } from 'kafkajs';
import { expect } from 'vitest';
import { headersToStrings } from '../cloudevents.ts';
import { createAvroCodec } from '../codec.ts';
import { type Catalog, renameTopics } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { createTopicsReady } from '../contracts/topics.ts';
import { type KafkaPort, kafkaPort } from '../kafka/port.ts';

/** The repository's `schemas/`. */
export const SCHEMAS_DIR = resolve(import.meta.dirname, '../../../../schemas');

/** A test's private copy of the catalog: every topic suffixed, created, and its subjects registered. */
export interface PrivateContracts {
  catalog: Catalog;
  /** The topics are the catalog's with `.t<suffix>` appended. */
  suffix: string;
  kafka: KafkaPort;
  admin: Admin;
  /** Deletes the topics and subjects. */
  cleanup(): Promise<void>;
}

/**
 * Each test gets its own topics and subjects (random suffix), so tests never see each other's
 * events. Every version of every event is registered unless `register` is false.
 */
export async function privateContracts(options: {
  brokers: string[];
  registryUrl: string;
  partitions?: number;
  register?: boolean;
  /** The private name of a topic; default `<name>.t<suffix>`. */
  topicName?: (name: string, suffix: string) => string;
}): Promise<PrivateContracts> {
  const suffix = randomBytes(4).toString('hex');
  const base = await loadCatalog(SCHEMAS_DIR);
  const rename = options.topicName ?? ((name: string, s: string) => `${name}.t${s}`);
  const renamed = renameTopics(base, (name) => rename(name, suffix));
  const catalog: Catalog = {
    ...renamed,
    topics: renamed.topics.map((topic) => ({ ...topic, partitions: options.partitions ?? topic.partitions })),
  };
  const kafka = kafkaPort({ brokers: options.brokers }, { clientId: `test-${suffix}` });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    catalog.topics.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions })),
  );
  const codec = createAvroCodec({ registryUrl: options.registryUrl });
  if (options.register !== false) {
    for (const event of catalog.events) for (const version of event.versions) await codec.register(event.subject, version.schema);
  }
  return {
    catalog,
    suffix,
    kafka,
    admin,
    cleanup: async () => {
      await admin.deleteTopics({ topics: catalog.topics.map((t) => t.name) }).catch(() => {});
      await admin.disconnect();
      for (const event of catalog.events) {
        await fetch(`${options.registryUrl}/subjects/${encodeURIComponent(event.subject)}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(5000),
        }).catch(() => {});
      }
    },
  };
}

/** A record as a test reads it back. */
export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Reads every record of `topics` from the beginning until `count` have arrived (or the time is up). */
export async function readRecords(kafka: KafkaPort, topics: string[], count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`read ${records.length} of ${count} records in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            records.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? '',
              value: message.value ?? Buffer.alloc(0),
              headers: headersToStrings(message.headers),
            });
            if (records.length >= count) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/**
 * How many records `topics` hold in all (high watermarks minus low). A topic made a moment ago
 * may not have a leader the admin client knows of yet (kafkajs does not retry "not the leader"
 * here), so a retriable error is asked again, a few times.
 */
export async function countRecords(admin: Admin, topics: string[]): Promise<number> {
  let total = 0;
  for (const topic of topics) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        for (const partition of await admin.fetchTopicOffsets(topic)) total += Number(partition.high) - Number(partition.low);
        break;
      } catch (error) {
        if (attempt >= 10 || (error as { retriable?: boolean }).retriable !== true) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }
  return total;
}

/** Checks per-key order: within each key, the `x-seq` header rises in the order records were written. */
export function expectKeyOrder(records: ReadRecord[]): void {
  const last = new Map<string, number>();
  for (const record of records.toSorted((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))) {
    const seq = Number(record.headers['x-seq']);
    const previous = last.get(record.key) ?? -1;
    expect(seq, `key ${record.key}: ${seq} after ${previous}`).toBeGreaterThan(previous);
    last.set(record.key, seq);
  }
}

/** Waits until `check` holds, asking every 50 ms; fails naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
