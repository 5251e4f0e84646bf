import type { KafkaPort } from '@junction/events';
import type { Message, TopicMessages } from 'kafkajs';
import type { ReplaySend } from './replay-plan.ts';
import { TokenBucket } from './token-bucket.ts';

/** Options of {@link sendReplays}. */
export interface SendReplaysOptions {
  /** At most this many records per second (a token bucket); unlimited when unset. */
  ratePerSecond?: number;
  /** Called after each acknowledged batch with how many records are done. */
  onProgress?: (done: number) => void;
}

/** Records per request when no rate bounds it. */
const BATCH = 500;

/** Groups consecutive sends into one request per batch, by topic, keeping their order. */
function topicMessages(sends: ReplaySend[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const send of sends) {
    const messages = byTopic.get(send.topic) ?? [];
    byTopic.set(send.topic, messages);
    messages.push({ key: send.record.key, value: send.record.value, headers: send.headers });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Sends the records in order with an idempotent producer and acks=all, one batch after another,
 * so records of one key stay in order. Resolves with how long the sending took; on a failure,
 * rejects saying how many were sent before it.
 */
export async function sendReplays(kafka: KafkaPort, sends: ReplaySend[], options: SendReplaysOptions = {}): Promise<{ elapsedMs: number }> {
  const bucket = options.ratePerSecond ? new TokenBucket({ ratePerSecond: options.ratePerSecond }) : undefined;
  const batch = bucket ? Math.min(bucket.capacity, BATCH) : BATCH;
  const producer = kafka.producer();
  const started = Date.now();
  let done = 0;
  try {
    await producer.connect();
    while (done < sends.length) {
      const chunk = sends.slice(done, done + batch);
      await bucket?.take(chunk.length);
      await producer.sendBatch({ topicMessages: topicMessages(chunk), acks: -1 });
      done += chunk.length;
      options.onProgress?.(done);
    }
    return { elapsedMs: Date.now() - started };
  } catch (error) {
    throw new Error(
      `replay stopped after ${done} of ${sends.length} records: ${(error as Error).message} → nothing was removed from the dead-letter topic; run the same replay again (subscribers deduplicate on ce_id)`,
      { cause: error },
    );
  } finally {
    await producer.disconnect().catch(() => {});
  }
}
