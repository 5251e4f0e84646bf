import { JunctionError, probes, registerProbe } from '@junction/observability';
import type { Admin, Producer } from 'kafkajs';
import { type AvroCodec, createAvroCodec, frame } from '../codec.ts';
import { type Catalog, eventContract, eventVersion } from '../contracts/catalog.ts';
import { kafkaError } from '../kafka/errors.ts';
import { kafkaPort } from '../kafka/port.ts';
import { isKafkaConnection } from '../kafka-connection.ts';
import { type PublisherOptions, type ResolvedPublisherOptions, resolvePublisherOptions } from './options.ts';
import { eventBytes, type PreparedEvent, type PublishOptions, prepareEvent } from './prepare.ts';
import { type Delivery, type OutgoingRecord, Sender } from './sender.ts';
import { observeSettled, reportUnprepared, startSendSpans } from './telemetry.ts';
import { PartitionChooser } from './topics.ts';

/** What Kafka acknowledged for one event. */
export interface PublishResult {
  /** `ce_id`. */
  id: string;
  /** `ce_type`, e.g. `com.junction.orders.OrderPlaced.v2`. */
  type: string;
  topic: string;
  partition: number;
  offset: string;
  key: string;
}

/** One event of `publishMany`. */
export interface EventInput<Events, T extends keyof Events & string = keyof Events & string> {
  type: T;
  data: Events[T];
  options?: PublishOptions;
}

/**
 * Publishes catalog events to Kafka: validated before anything is sent, keyed by their
 * aggregate, wrapped in CloudEvents headers, written by an idempotent producer with acks=all,
 * and reported as published only once Kafka acknowledged them.
 *
 * `Events` maps record fullnames to their data types (the generated `JunctionEvents`).
 */
export interface Publisher<Events = Record<string, Record<string, unknown>>> {
  /** Publishes one event; resolves with where Kafka wrote it. */
  publish<T extends keyof Events & string>(type: T, data: Events[T], options?: PublishOptions): Promise<PublishResult>;
  /**
   * Publishes several events, in order. All are validated and their schemas resolved before any
   * is sent: one invalid event fails the call and sends nothing.
   */
  publishMany(events: ReadonlyArray<EventInput<Events>>): Promise<PublishResult[]>;
  /** Resolves once every event accepted so far has been acknowledged or has failed. */
  flush(): Promise<void>;
  /** Flushes, then disconnects; later publishes fail. */
  close(): Promise<void>;
  /** How much the publisher holds and has done, for metrics and tests. */
  readonly stats: PublisherStats;
}

/** A publisher's counters. */
export interface PublisherStats {
  /** Bytes accepted and not yet acknowledged (at most `maxInFlightBytes`). */
  inFlightBytes: number;
  /** Bytes of callers waiting for room (at most `maxInFlightBytes`). */
  waitingBytes: number;
  /** Produce requests sent: fewer than events when publishes are batched. */
  requests: number;
}

/** What the outbox relay needs beyond the public face: sending events prepared earlier, and the limits. */
interface Internals {
  send(events: PreparedEvent[]): Promise<PublishResult[]>;
  options: ResolvedPublisherOptions;
}

const internals = new WeakMap<object, Internals>();

function internalsOf<Events>(publisher: Publisher<Events>): Internals {
  const found = internals.get(publisher);
  if (!found) throw new JunctionError('internal', 'not a publisher made by createPublisher');
  return found;
}

/** Sends events prepared earlier (by `outbox.add`), through the same path as `publish`. */
export function sendPrepared<Events>(publisher: Publisher<Events>, events: PreparedEvent[]): Promise<PublishResult[]> {
  return internalsOf(publisher).send(events);
}

/** The limits a publisher was made with. */
export function publisherLimits<Events>(
  publisher: Publisher<Events>,
): Pick<ResolvedPublisherOptions, 'maxInFlightBytes' | 'maxBatchBytes' | 'maxEventBytes'> {
  return internalsOf(publisher).options;
}

/** The longest wait between two attempts of a produce request. */
const PRODUCE_RETRY_MAX_MS = 1000;

/**
 * The error of a publish whose events Kafka may or may not have written, naming them: publishing
 * them again with the same ids (`PublishOptions.id`) is safe, as consumers drop a copy by `ce_id`.
 */
function outcomeUnknown(error: JunctionError, events: readonly PreparedEvent[]): JunctionError {
  const eventIds = events.map((event) => event.id);
  const shown = eventIds.length > 3 ? `${eventIds.slice(0, 3).join(', ')} and ${eventIds.length - 3} more` : eventIds.join(', ');
  return new JunctionError(
    'publisher.outcome-unknown',
    `${error.message}. Publish ${eventIds.length === 1 ? 'it' : 'them'} again with the same id${eventIds.length === 1 ? '' : 's'} (${shown}; PublishOptions.id), and consumers drop any copy`,
    { cause: error, context: { ...error.context, eventIds } },
  );
}

/** The record value of `event`: its framed encoding with the id written in, or a new frame around its body. */
function withSchemaId(event: PreparedEvent, id: number): Buffer {
  if (!event.framed) return frame(id, event.body);
  event.framed.writeInt32BE(id, 1);
  return event.framed;
}

/** What a caller learns of an event Kafka wrote. */
const result = (event: PreparedEvent, delivery: Delivery): PublishResult => ({
  id: event.id,
  type: event.headers.ce_type as string,
  key: event.key,
  topic: delivery.topic,
  partition: delivery.partition,
  offset: delivery.offset,
});

/** Creates a {@link Publisher}. Nothing connects until the first publish. */
export function createPublisher<Events = Record<string, Record<string, unknown>>>(options: PublisherOptions): Publisher<Events> {
  const resolved = resolvePublisherOptions(options);
  const { catalog } = options;
  const source = `/junction/${resolved.service}`;
  const codec: AvroCodec =
    'url' in options.registry
      ? createAvroCodec({ registryUrl: options.registry.url, retries: resolved.retry.retries, backoff: resolved.retry })
      : options.registry;
  const port = kafkaPort(options.kafka, {
    clientId: `junction-${resolved.service}`,
    requestTimeoutMs: Math.min(resolved.sendTimeoutMs, 30_000),
    retry: resolved.retry,
  });
  const createProducer = (): Producer =>
    port.producer({
      // A send retries until its deadline (sendTimeoutMs), not for a count: Kafka takes seconds
      // to move a dead broker's leaderships. Waits grow to 1 s at most, as the Java producer's
      // retry.backoff.max.ms, so the send goes on soon after a new leader is elected.
      retry: {
        ...resolved.retry,
        retries: Math.ceil(resolved.sendTimeoutMs / resolved.retry.initialMs),
        maxMs: Math.min(resolved.retry.maxMs, PRODUCE_RETRY_MAX_MS),
      },
    });
  const admin: Admin = port.admin({ retry: { retries: resolved.retry.retries, initialMs: resolved.retry.initialMs } });
  const { user } = port;
  const sender = new Sender(createProducer, { ...resolved, user, lanes: resolved.maxInFlightRequests });
  const partitions = new PartitionChooser(admin, user);

  let connecting: Promise<void> | undefined;
  let connected = false;
  const connect = (): Promise<void> => {
    // The admin connection (partition metadata) is the first contact: it says clearly when Kafka is away.
    connecting ??= admin.connect().then(
      () => {
        connected = true;
      },
      (error: unknown) => {
        connecting = undefined;
        throw kafkaError(error, `cannot reach Kafka at ${describeBrokers(options)}; is the stack up? (\`./junction stack status\`)`, {
          user,
        });
      },
    );
    return connecting;
  };

  /**
   * Schema ids per subject, then version (no key built for every event published): the lookup
   * under way, and the id once it came, for the synchronous path. A failed lookup is forgotten.
   */
  const schemaIds = new Map<string, Map<number, { lookup: Promise<number>; id?: number }>>();
  const schemaId = (event: PreparedEvent): Promise<number> => {
    let versions = schemaIds.get(event.subject);
    if (!versions) {
      versions = new Map();
      schemaIds.set(event.subject, versions);
    }
    const known = versions.get(event.version);
    if (known) return known.lookup;
    const version = eventVersion(eventContract(catalog, event.type), event.version);
    const entry: { lookup: Promise<number>; id?: number } = {
      lookup: (resolved.autoRegister ? codec.register(event.subject, version.schema) : codec.idOf(event.subject, version.schema)).then(
        (id) => {
          entry.id = id;
          return id;
        },
        (error: unknown) => {
          versions.delete(event.version);
          if (error instanceof JunctionError && error.code === 'schema.unknown') {
            throw new JunctionError(
              'schema.unknown',
              `${version.ceType} is not registered under subject ${event.subject}; register the schemas with \`./junction schemas register\` (or set autoRegister)`,
              { cause: error, context: { subject: event.subject, version: event.version } },
            );
          }
          throw error;
        },
      ),
    };
    versions.set(event.version, entry);
    return entry.lookup;
  };

  // Admission is chained per key: an event enters the send queue only after every earlier event
  // of its key did, even when one waits for its schema id and a later one would not. Other keys
  // do not wait for it.
  const chains = new Map<string, Promise<unknown>>();
  let closed = false;

  const send = (events: PreparedEvent[]): Promise<PublishResult[]> => {
    if (closed) return Promise.reject(new JunctionError('internal', 'the publisher is closed'));
    const bytes = events.reduce((sum, event) => sum + eventBytes(event), 0);
    const tooLarge = events.find((event) => eventBytes(event) > resolved.maxEventBytes);
    if (tooLarge) {
      return Promise.reject(
        new JunctionError(
          'event.invalid',
          `${tooLarge.type} is ${eventBytes(tooLarge)} bytes, more than ${resolved.maxEventBytes} (maxEventBytes)`,
          {
            context: { type: tooLarge.type, bytes: eventBytes(tooLarge), maxEventBytes: resolved.maxEventBytes },
          },
        ),
      );
    }
    // The common case takes no detour: nothing of its keys is waiting (nothing at all, as a rule,
    // so no key is even named), there is room, and the partitions and schema ids are known, so
    // the events join the send queue at once.
    const keys = chains.size > 0 ? chainKeys(events) : undefined;
    if (connected && !keys?.some((key) => chains.has(key)) && sender.tryReserve(bytes)) {
      const records = recordsNow(events);
      if (records) return settle(events, sender.send(records));
      sender.release(bytes);
    }
    return admitLater(events, bytes, keys ?? chainKeys(events));
  };

  /** The admission chains' keys of `events`, each once. */
  const chainKeys = (events: PreparedEvent[]): string[] =>
    events.length === 1 ? [`${events[0]?.topic}/${events[0]?.key}`] : [...new Set(events.map((event) => `${event.topic}/${event.key}`))];

  /** Admits `events` after the admissions of their keys under way, once they have room, their partitions and schema ids. */
  const admitLater = (events: PreparedEvent[], bytes: number, keys: string[]): Promise<PublishResult[]> => {
    // Room is claimed now, in call order, so the backpressure wait starts when the caller calls; a
    // caller turned away is told at once, holding nothing.
    let reserved: Promise<void>;
    try {
      reserved = sender.reserve(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    reserved.catch(() => {});
    const before = keys.map((key) => chains.get(key)).filter((tail) => tail !== undefined);
    const admitted = (before.length ? Promise.all(before) : Promise.resolve()).then(async () => {
      await reserved;
      let records: OutgoingRecord[];
      try {
        await connect();
        // Everything that can fail before sending fails here, for all events at once: no partial publish.
        records = await Promise.all(
          events.map(async (event) => toRecord(event, await partitions.partition(event.topic, event.key), await schemaId(event))),
        );
      } catch (error) {
        sender.release(bytes);
        throw error;
      }
      return sender.send(records);
    });
    const tail = admitted.catch(() => {});
    for (const key of keys) chains.set(key, tail);
    // The map keeps only keys with an admission under way.
    void tail.then(() => {
      for (const key of keys) if (chains.get(key) === tail) chains.delete(key);
    });
    return admitted.then((deliveries) => settle(events, deliveries));
  };

  /** The records of `events` if every partition and schema id is known now; undefined otherwise. */
  const recordsNow = (events: PreparedEvent[]): OutgoingRecord[] | undefined => {
    const records: OutgoingRecord[] = [];
    for (const event of events) {
      const partition = partitions.partitionNow(event.topic, event.key);
      const id = schemaIds.get(event.subject)?.get(event.version)?.id;
      if (partition === undefined || id === undefined) return undefined;
      records.push(toRecord(event, partition, id));
    }
    return records;
  };

  const toRecord = (event: PreparedEvent, partition: number, id: number): OutgoingRecord => ({
    topic: event.topic,
    partition,
    key: event.key,
    value: withSchemaId(event, id),
    headers: event.headers,
    timestamp: event.timestamp,
    bytes: eventBytes(event),
  });

  /** Waits for Kafka's answer on every event; fails as a whole when one failed. */
  const settle = async (events: PreparedEvent[], deliveries: Promise<Delivery>[]): Promise<PublishResult[]> => {
    if (deliveries.length === 1) {
      // One event, one answer: the common case needs no allSettled.
      const event = events[0] as PreparedEvent;
      try {
        return [result(event, await (deliveries[0] as Promise<Delivery>))];
      } catch (error) {
        partitions.forget(event.topic);
        throw namingEvents(error, events);
      }
    }
    const settled = await Promise.allSettled(deliveries);
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      for (const event of events) partitions.forget(event.topic);
      throw namingEvents(failed.reason, events);
    }
    return settled.map((outcome, i) => result(events[i] as PreparedEvent, (outcome as PromiseFulfilledResult<Delivery>).value));
  };

  /** An unknown outcome names the caller's events (a request may have carried others' too). */
  const namingEvents = (error: unknown, events: readonly PreparedEvent[]): unknown =>
    error instanceof JunctionError && error.code === 'publisher.outcome-unknown' ? outcomeUnknown(error, events) : error;

  const publisher: Publisher<Events> = {
    async publish(type, data, publishOptions) {
      const started = performance.now();
      let event: PreparedEvent;
      try {
        event = prepareEvent(catalog, source, { type, data, ...(publishOptions ? { options: publishOptions } : {}) }, resolved.pii);
      } catch (error) {
        reportUnprepared(catalog, [type], started, error);
        throw error;
      }
      const events = [event];
      const [result] = await observeSettled(events, startSendSpans(events, [publishOptions]), started, send(events));
      return result as PublishResult;
    },
    async publishMany(events) {
      const started = performance.now();
      const prepared = events.map((event, index) => {
        try {
          return prepareEvent(catalog, source, event, resolved.pii);
        } catch (error) {
          reportUnprepared(
            catalog,
            events.map((e) => e.type),
            started,
            error,
          );
          if (error instanceof JunctionError) {
            throw new JunctionError(error.code, `event ${index} (${event.type}): ${error.message}`, {
              cause: error,
              context: { ...error.context, index },
            });
          }
          throw error;
        }
      });
      if (!prepared.length) return [];
      return observeSettled(
        prepared,
        startSendSpans(
          prepared,
          events.map((event) => event.options),
        ),
        started,
        send(prepared),
      );
    },
    async flush() {
      await Promise.all(chains.values());
      await sender.flush();
    },
    async close() {
      closed = true;
      unregister();
      await publisher.flush();
      await sender.close();
      if (connecting) await admin.disconnect().catch(() => {});
    },
    get stats() {
      return { inFlightBytes: sender.inFlightBytes, waitingBytes: sender.waitingBytes, requests: sender.requests };
    },
  };
  internals.set(publisher, { send, options: resolved });
  const unregister = registerProbe(probes.publishers, { stats: () => publisher.stats });
  return publisher;
}

function describeBrokers(options: PublisherOptions): string {
  return isKafkaConnection(options.kafka) ? options.kafka.brokers.join(',') : 'the configured brokers';
}

export type { Catalog };
