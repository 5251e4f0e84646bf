import { JunctionError } from '@junction/observability';
import type { Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { kafkaError } from './topics.ts';

/** A record with its partition chosen and its bytes counted, waiting to be sent. */
export interface OutgoingRecord {
  topic: string;
  partition: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
  /** What the record holds in memory while in flight. */
  bytes: number;
}

/** Where Kafka wrote a record. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
}

/** Limits of a {@link Sender}. */
export interface SenderLimits {
  sendTimeoutMs: number;
  maxInFlightBytes: number;
  backpressureTimeoutMs: number;
  maxBatchBytes: number;
}

interface Pending {
  record: OutgoingRecord;
  resolve: (delivery: Delivery) => void;
  reject: (error: unknown) => void;
}

interface Waiter {
  bytes: number;
  resolve: () => void;
}

/**
 * Sends records to Kafka with bounded memory, in order, as few requests as the load allows.
 *
 * One produce request is in flight at a time: records that arrive meanwhile wait and go together
 * in the next request (micro-batching without a linger delay: batches grow with the load). One
 * request at a time is also what keeps per-key order across retries, as with Kafka's own
 * idempotent producer. Accepted bytes are bounded: {@link reserve} waits for room, and gives up
 * with `publisher.backpressure` rather than letting memory grow while Kafka is slow or away.
 */
export class Sender {
  readonly #producer: Producer;
  readonly #limits: SenderLimits;
  readonly #queue: Pending[] = [];
  readonly #waiters: Waiter[] = [];
  #inFlightBytes = 0;
  #waitingBytes = 0;
  #requests = 0;
  #pumping: Promise<void> | undefined;

  constructor(producer: Producer, limits: SenderLimits) {
    this.#producer = producer;
    this.#limits = limits;
  }

  /** Bytes accepted and not yet settled. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Records waiting for a request. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Bytes of callers waiting for room. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Produce requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Takes `bytes` of the in-flight budget, waiting (in arrival order) for room up to the
   * backpressure timeout. Fails with retriable `publisher.backpressure` when the wait runs out,
   * or at once when as many bytes already wait as may be in flight.
   */
  reserve(bytes: number): Promise<void> {
    const { maxInFlightBytes, backpressureTimeoutMs } = this.#limits;
    if (bytes > maxInFlightBytes) {
      return Promise.reject(
        new JunctionError(
          'event.invalid',
          `${bytes} bytes of events at once is more than the publisher's limit of ${maxInFlightBytes} bytes in flight`,
          {
            context: { bytes, maxInFlightBytes },
          },
        ),
      );
    }
    if (!this.#waiters.length && this.#inFlightBytes + bytes <= maxInFlightBytes) {
      this.#inFlightBytes += bytes;
      return Promise.resolve();
    }
    // Waiting events hold memory too: at most as much as is in flight, then callers are turned away at once.
    if (this.#waitingBytes + bytes > maxInFlightBytes) return Promise.reject(this.#backpressure(0));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve: () => {
          clearTimeout(timer);
          this.#waitingBytes -= bytes;
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        this.#waitingBytes -= bytes;
        reject(this.#backpressure(backpressureTimeoutMs));
        this.#admitWaiters();
      }, backpressureTimeoutMs);
      this.#waitingBytes += bytes;
      this.#waiters.push(waiter);
    });
  }

  /** Gives back bytes reserved for records that will not be sent after all. */
  release(bytes: number): void {
    this.#inFlightBytes -= bytes;
    this.#admitWaiters();
  }

  /** Queues records whose bytes are reserved; each promise settles when Kafka acknowledges it or it fails. */
  send(records: OutgoingRecord[]): Promise<Delivery>[] {
    const deliveries = records.map(
      (record) =>
        new Promise<Delivery>((resolve, reject) => {
          this.#queue.push({ record, resolve, reject });
        }),
    );
    if (!this.#pumping) {
      // Started on the next turn, so that everything published in this one goes in one request.
      this.#pumping = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#pump());
    }
    return deliveries;
  }

  /** Resolves once every record queued so far has been acknowledged or has failed. */
  async flush(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  #backpressure(waitedMs: number): JunctionError {
    const { maxInFlightBytes } = this.#limits;
    return new JunctionError(
      'publisher.backpressure',
      `Kafka is not keeping up: ${this.#inFlightBytes} bytes wait for acknowledgement (limit ${maxInFlightBytes}); nothing was sent, try again later`,
      { context: { inFlightBytes: this.#inFlightBytes, waitingBytes: this.#waitingBytes, maxInFlightBytes, waitedMs } },
    );
  }

  #admitWaiters(): void {
    while (this.#waiters.length) {
      const next = this.#waiters[0] as Waiter;
      if (this.#inFlightBytes + next.bytes > this.#limits.maxInFlightBytes) return;
      this.#waiters.shift();
      this.#inFlightBytes += next.bytes;
      next.resolve();
    }
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length) await this.#sendBatch(this.#takeBatch());
    } finally {
      this.#pumping = undefined;
    }
  }

  #takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#queue.length) {
      const next = this.#queue[count] as Pending;
      if (count > 0 && bytes + next.record.bytes > this.#limits.maxBatchBytes) break;
      bytes += next.record.bytes;
      count += 1;
    }
    return this.#queue.splice(0, count);
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    for (const { record } of batch) {
      let topic = byTopic.get(record.topic);
      if (!topic) {
        topic = { topic: record.topic, messages: [] };
        byTopic.set(record.topic, topic);
      }
      topic.messages.push({
        key: record.key,
        value: record.value,
        headers: record.headers,
        partition: record.partition,
        timestamp: String(record.timestamp),
      });
    }
    const topics = [...byTopic.keys()];
    const { sendTimeoutMs } = this.#limits;
    this.#requests += 1;
    const sending = this.#producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1, timeout: sendTimeoutMs });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), sendTimeoutMs);
    });
    try {
      const outcome = await Promise.race([sending, expired]);
      if (outcome === 'expired') {
        const error = new JunctionError(
          'timeout',
          `Kafka did not acknowledge ${batch.length} events within ${sendTimeoutMs} ms; they may still be written`,
          {
            context: { topics, events: batch.length },
          },
        );
        for (const pending of batch) pending.reject(error);
        // The next request waits for this one to settle: sending past it could reorder a key.
        await sending.catch(() => {});
        return;
      }
      this.#settle(batch, outcome);
    } catch (error) {
      const failure = kafkaError(error, `Kafka did not acknowledge ${batch.length} events`, { topics, events: batch.length });
      for (const pending of batch) pending.reject(failure);
    } finally {
      clearTimeout(timer);
      this.release(batch.reduce((sum, { record }) => sum + record.bytes, 0));
    }
  }

  /** Gives each record its offset: a partition's records are written in request order from its base offset. */
  #settle(batch: Pending[], metadata: RecordMetadata[]): void {
    const next = new Map<string, bigint>();
    for (const m of metadata) if (m.baseOffset !== undefined) next.set(`${m.topicName}\0${m.partition}`, BigInt(m.baseOffset));
    for (const pending of batch) {
      const { topic, partition } = pending.record;
      const slot = `${topic}\0${partition}`;
      const offset = next.get(slot);
      if (offset === undefined) {
        pending.reject(
          new JunctionError('internal', `Kafka's answer has no offset for ${topic}/${partition}`, { context: { topic, partition } }),
        );
        continue;
      }
      next.set(slot, offset + 1n);
      pending.resolve({ topic, partition, offset: offset.toString() });
    }
  }
}
