import { JunctionError } from '@junction/observability';
import type { CompressionTypes, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { compressionType, type PublishCompression } from '../kafka/compression.ts';
import { kafkaError, kafkaFailureReason } from '../kafka/errors.ts';

/** The most one produce request carries, far below the broker's `socket.request.max.bytes` (100 MiB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

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

/** The publish timeout ran out before Kafka answered. */
export class SendExpired extends Error {}

/**
 * What a failed send means for its records. Before the request left (no producer, no
 * connection) nothing was written. After it left, a refusal that blames the records, the
 * topic or the user's rights is that refusal; anything else — retries that ran out, a
 * connection cut mid-request, the publish timeout — leaves the outcome unknown: Kafka may
 * have written the records. That is `publisher.outcome-unknown`, and the publisher names the
 * events so the caller can publish them again under the same ids. `lastRefusal` is the last
 * retriable error Kafka gave while retrying: the timeout that ends an attempt in flight names it
 * too, as retries that ran out do.
 */
export function sendFailure(
  error: unknown,
  sent: boolean,
  lastRefusal: unknown,
  context: { topics: string[]; events: number; sendTimeoutMs: number; user?: string | undefined },
): JunctionError {
  const { topics, events, sendTimeoutMs, user } = context;
  if (error instanceof SendExpired && !sent) {
    return new JunctionError('timeout', `no connection to Kafka within ${sendTimeoutMs} ms (sendTimeoutMs); nothing was sent`, {
      context: { topics, events, sendTimeoutMs },
    });
  }
  const refusal = error instanceof SendExpired ? lastRefusal : error;
  if (refusal === undefined) {
    return new JunctionError(
      'publisher.outcome-unknown',
      `Kafka did not acknowledge ${events} events within ${sendTimeoutMs} ms (sendTimeoutMs); they may or may not be written`,
      { context: { topics, events, sendTimeoutMs } },
    );
  }
  const failure = kafkaError(refusal, `Kafka did not acknowledge ${events} events`, { topics, events, user });
  if (refusal === error && (!sent || !failure.retriable)) return failure;
  return new JunctionError(
    'publisher.outcome-unknown',
    `Kafka did not acknowledge ${events} events within ${sendTimeoutMs} ms of retries (last: ${kafkaFailureReason(refusal)}); they may or may not be written`,
    { cause: failure, context: { ...failure.context, sendTimeoutMs, reason: failure.code } },
  );
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
  /** How record batches are compressed. Default none. */
  compression?: PublishCompression;
  maxInFlightBytes: number;
  backpressureTimeoutMs: number;
  maxBatchBytes: number;
  /** The Kafka user, named when access is denied. */
  user?: string | undefined;
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
 * Partitions are spread over `lanes` (a partition always in the same one); each lane has its own
 * producer and one produce request in flight at a time, so a partition never has two, and its
 * records are written in the order they were sent. Records that arrive while a lane's request is
 * out wait and go together in its next request (micro-batching without a linger delay: batches
 * grow with the load). Several lanes let one lane's request be built while another's is at the
 * broker, as the Java producer's `max.in.flight.requests.per.connection` does.
 *
 * Accepted bytes are bounded over all lanes: {@link reserve} waits for room, and gives up with
 * `publisher.backpressure` rather than letting memory grow while Kafka is slow or away.
 */
export class Sender {
  readonly #limits: SenderLimits;
  readonly #lanes: Lane[];
  /** Callers waiting for room, oldest first from `#waitersHead` (a queue without O(n) shifts). */
  #waiters: Waiter[] = [];
  #waitersHead = 0;
  #inFlightBytes = 0;
  #waitingBytes = 0;
  /** Topic → a number that spreads its partitions over the lanes differently from other topics'. */
  readonly #topicSpread = new Map<string, number>();

  constructor(createProducer: () => Producer, limits: SenderLimits & { lanes?: number }) {
    this.#limits = limits;
    this.#lanes = Array.from({ length: limits.lanes ?? 1 }, () => new Lane(createProducer, limits, (bytes) => this.release(bytes)));
  }

  /** Disconnects the producers that are connected. */
  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }

  /** Bytes accepted and not yet settled. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Records waiting for a request. */
  get queued(): number {
    return this.#lanes.reduce((sum, lane) => sum + lane.queued, 0);
  }

  /** Bytes of callers waiting for room. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Produce requests sent so far. */
  get requests(): number {
    return this.#lanes.reduce((sum, lane) => sum + lane.requests, 0);
  }

  /**
   * Takes `bytes` of the in-flight budget, waiting (in arrival order) for room up to the
   * backpressure timeout. Fails with retriable `publisher.backpressure` when the wait runs out,
   * or at once when as many bytes already wait as may be in flight.
   */
  reserve(bytes: number): Promise<void> {
    const { maxInFlightBytes, backpressureTimeoutMs } = this.#limits;
    if (bytes > maxInFlightBytes) {
      throw new JunctionError(
        'event.invalid',
        `${bytes} bytes of events at once is more than the publisher's limit of ${maxInFlightBytes} in flight`,
        {
          context: { bytes, maxInFlightBytes },
        },
      );
    }
    if (this.tryReserve(bytes)) return Promise.resolve();
    // Waiting events hold memory too: at most as much as may be in flight, then callers are turned away at once.
    if (this.#waitingBytes + bytes > maxInFlightBytes) throw this.#backpressure(0);
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
        // Gone from the queue: admission skips it.
        waiter.bytes = -1;
        this.#waitingBytes -= bytes;
        reject(this.#backpressure(backpressureTimeoutMs));
        this.#admitWaiters();
      }, backpressureTimeoutMs);
      this.#waitingBytes += bytes;
      this.#waiters.push(waiter);
    });
  }

  /** Takes `bytes` of the budget if there is room right now and nobody waits before; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.#waitersHead < this.#waiters.length || this.#inFlightBytes + bytes > this.#limits.maxInFlightBytes) return false;
    this.#inFlightBytes += bytes;
    return true;
  }

  /** Gives back bytes reserved for records that will not be sent after all. */
  release(bytes: number): void {
    this.#inFlightBytes -= bytes;
    this.#admitWaiters();
  }

  /** Queues records whose bytes are reserved; each promise settles when Kafka acknowledges it or it fails. */
  send(records: OutgoingRecord[]): Promise<Delivery>[] {
    if (this.#lanes.length === 1) return (this.#lanes[0] as Lane).send(records);
    return records.map((record) => this.#laneOf(record).send([record])[0] as Promise<Delivery>);
  }

  /** Resolves once every record queued so far has been acknowledged or has failed. */
  async flush(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.flush()));
  }

  #laneOf(record: OutgoingRecord): Lane {
    let spread = this.#topicSpread.get(record.topic);
    if (spread === undefined) {
      spread = this.#topicSpread.size;
      this.#topicSpread.set(record.topic, spread);
    }
    return this.#lanes[(record.partition + spread) % this.#lanes.length] as Lane;
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
    const waiters = this.#waiters;
    while (this.#waitersHead < waiters.length) {
      const next = waiters[this.#waitersHead] as Waiter;
      if (next.bytes >= 0 && this.#inFlightBytes + next.bytes > this.#limits.maxInFlightBytes) break;
      this.#waitersHead += 1;
      if (next.bytes < 0) continue;
      this.#inFlightBytes += next.bytes;
      next.resolve();
    }
    // Admitted and expired waiters go once they are half the queue: it never holds more than
    // twice the callers still waiting (a queue that never empties under steady backpressure too).
    if (this.#waitersHead === waiters.length) {
      this.#waiters = [];
      this.#waitersHead = 0;
    } else if (this.#waitersHead > 1024 && this.#waitersHead * 2 > waiters.length) {
      this.#waiters = waiters.slice(this.#waitersHead);
      this.#waitersHead = 0;
    }
  }

  /** Entries of the waiting queue, admitted and expired ones not yet dropped included (for tests). */
  get waiterSlots(): number {
    return this.#waiters.length;
  }
}

/**
 * One lane of a {@link Sender}: its partitions' records, its producer, one request in flight.
 *
 * A request that fails retriably is sent again, the same records under the same sequence
 * numbers (the broker drops a copy it already wrote), until the send timeout: that rides out a
 * leader failover. One that still fails leaves its records' fate unknown (Kafka may have written
 * them; `publisher.outcome-unknown`). Nothing queued behind it in the lane is sent then — that
 * could put a later event of a key before an earlier one the caller will publish again — so the
 * lane's queue fails with it, and its producer is replaced: kafkajs rolls its sequence numbers
 * back after a failure, and a reused number could make the broker take a new batch for a
 * duplicate of one it already wrote. Other lanes hold other partitions and go on.
 */
class Lane {
  readonly #createProducer: () => Producer;
  #producer: Promise<Producer> | undefined;
  readonly #limits: SenderLimits;
  readonly #compression: CompressionTypes;
  readonly #release: (bytes: number) => void;
  readonly #queue: Pending[] = [];
  #requests = 0;
  #pumping: Promise<void> | undefined;

  constructor(createProducer: () => Producer, limits: SenderLimits, release: (bytes: number) => void) {
    this.#compression = compressionType(limits.compression ?? 'none');
    this.#createProducer = createProducer;
    this.#limits = limits;
    this.#release = release;
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) await producer.then((p) => p.disconnect()).catch(() => {});
  }

  get queued(): number {
    return this.#queue.length;
  }

  get requests(): number {
    return this.#requests;
  }

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

  async flush(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length) await this.#sendBatch(this.#takeBatch());
    } finally {
      this.#pumping = undefined;
    }
  }

  /**
   * The next request: waiting records in order, until one partition's share would pass
   * `maxBatchBytes` (the broker limits each partition's batch, `message.max.bytes`) or the whole
   * request would pass {@link MAX_REQUEST_BYTES}.
   */
  #takeBatch(): Pending[] {
    const perPartition = new Map<string, number>();
    let total = 0;
    let count = 0;
    while (count < this.#queue.length) {
      const { record } = this.#queue[count] as Pending;
      const slot = `${record.topic}\0${record.partition}`;
      const share = (perPartition.get(slot) ?? 0) + record.bytes;
      if (count > 0 && (share > this.#limits.maxBatchBytes || total + record.bytes > MAX_REQUEST_BYTES)) break;
      perPartition.set(slot, share);
      total += record.bytes;
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
    const bytes = batch.reduce((sum, { record }) => sum + record.bytes, 0);
    // Kafka's retries (a leader failover takes it seconds) go on until this moment, and no later:
    // the publish timeout is the whole delivery's, as the Java producer's delivery.timeout.ms.
    const deadline = Date.now() + sendTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), sendTimeoutMs);
    });
    let sending: Promise<RecordMetadata[]> | undefined;
    let lastRefusal: unknown;
    const onRetriableError = (error: Error) => {
      lastRefusal = error;
    };
    try {
      const outcome = await Promise.race([
        (async () => {
          const producer = await this.#connectedProducer();
          this.#requests += 1;
          sending = producer.sendBatch({
            topicMessages: [...byTopic.values()],
            acks: -1,
            timeout: sendTimeoutMs,
            compression: this.#compression,
            deadline,
            onRetriableError,
          });
          return sending;
        })(),
        expired,
      ]);
      if (outcome === 'expired') throw new SendExpired();
      this.#settle(batch, outcome);
      this.#release(bytes);
    } catch (error) {
      const failure = sendFailure(error, sending !== undefined, lastRefusal, {
        topics,
        events: batch.length,
        sendTimeoutMs,
        user: this.#limits.user,
      });
      for (const pending of batch) pending.reject(failure);
      this.#failQueue(failure);
      // The abandoned request still holds its buffers until kafkajs lets go of it; the bytes count until then (bounded).
      const abandoned = sending;
      await this.#replaceProducer();
      if (abandoned) await Promise.race([abandoned.catch(() => {}), delay(sendTimeoutMs)]);
      this.#release(bytes);
    } finally {
      clearTimeout(timer);
    }
  }

  #connectedProducer(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#createProducer();
      const connecting = producer.connect().then(() => producer);
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
      this.#producer = connecting;
    }
    return this.#producer;
  }

  /** Drops the producer after a failed request; the next request connects a new one (a new producer id). */
  async #replaceProducer(): Promise<void> {
    const old = this.#producer;
    this.#producer = undefined;
    if (old) await Promise.race([old.then((p) => p.disconnect()).catch(() => {}), delay(5000)]);
  }

  /** Fails every queued record after a failed request: sending them could reorder their keys. */
  #failQueue(cause: JunctionError): void {
    const queued = this.#queue.splice(0);
    if (!queued.length) return;
    // These were never sent, whatever became of the request before them.
    const code = cause.code === 'publisher.outcome-unknown' ? 'broker.unavailable' : cause.code;
    const error = new JunctionError(
      code,
      `not sent: an earlier request to Kafka failed (${cause.message}), and sending after it could reorder a key; publish again`,
      { cause, retriable: true, context: { events: queued.length } },
    );
    for (const pending of queued) pending.reject(error);
    this.#release(queued.reduce((sum, { record }) => sum + record.bytes, 0));
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
