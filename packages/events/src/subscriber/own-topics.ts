import { JunctionError } from '@junction/observability';
import type { Producer } from 'kafkajs';
import type { Catalog } from '../contracts/catalog.ts';
import { createTopicsReady } from '../contracts/topics.ts';
import type { KafkaPort } from '../kafka/port.ts';
import { endSpan, startSendSpan } from '../tracing.ts';
import { deadLetterTopic, type RecordSink, retryTopic } from './types.ts';

/**
 * A sink writing to the group's retry and dead-letter topics with acks=all, failing as `timeout`
 * after `timeoutMs`. The next hop is a `send` span under the record's `process` span when tracing
 * records, and carries its traceparent; otherwise the headers go as they are.
 */
export function producerSink(producer: Producer, timeoutMs: number): RecordSink {
  return async (topic, record) => {
    const headers = { ...record.headers };
    const span = startSendSpan(topic, headers);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        producer.send({ topic, acks: -1, messages: [{ key: record.key, value: record.value, headers }] }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new JunctionError('timeout', `Kafka did not acknowledge a record for ${topic} within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      endSpan(span);
    } catch (error) {
      endSpan(span, error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Creates the group's retry topics (for `stages` delays) and dead-letter topics that are missing.
 *
 * A dead-letter topic has the partitions of its original topic. A retry topic has one: its
 * records all wait the same delay, so they fall due in the order they were written and one
 * partition keeps them in that order; and a subscriber fetches its retry topics' partitions with
 * every fetch of its main topics, so each partition there costs it (and the broker) on every
 * record it consumes. Retry topics made earlier keep the partitions they have.
 */
export async function ensureOwnTopics(options: {
  kafka: KafkaPort;
  catalog: Catalog;
  group: string;
  topics: readonly string[];
  stages: number;
}): Promise<void> {
  const { kafka, catalog, group, topics, stages } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics.flatMap((topic) => {
      const partitions = catalog.topics.find((t) => t.name === topic)?.partitions ?? 1;
      const retries = Array.from({ length: stages }, (_, i) => ({ topic: retryTopic(group, topic, i + 1), numPartitions: 1 }));
      return [...retries, { topic: deadLetterTopic(group, topic), numPartitions: partitions }];
    });
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length) await createTopicsReady(admin, missing);
  } finally {
    await admin.disconnect();
  }
}
