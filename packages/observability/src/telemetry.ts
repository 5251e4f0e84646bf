import diagnostics from 'node:diagnostics_channel';
import type { METRICS } from './metric-names.ts';

/**
 * The SDK tells what happens through these named channels (node:diagnostics_channel); metrics,
 * logs and traces subscribe to them, so no metric call sits in the publisher's or subscriber's
 * logic, and with nobody listening a publish costs one `hasSubscribers` check.
 */

/** An event the publisher settled. */
export interface PublishSettled {
  topic: string;
  eventType: string;
  outcome: (typeof METRICS.eventsPublished.values.outcome)[number];
  /** From `publish()` to the outcome. */
  durationMs: number;
}

/** One pass of a record through the handler (and decode and deduplication around it). */
export interface HandlerAttempt {
  group: string;
  topic: string;
  /** The record fullname; `unknown` when the record could not be decoded. */
  eventType: string;
  outcome: (typeof METRICS.handlerDuration.values.outcome)[number];
  /** 1 for the first delivery; more for in-place retries and deliveries from retry topics. */
  attempt: number;
  durationMs: number;
}

/** What became of a record the subscriber is done with. */
export interface RecordFinished {
  group: string;
  topic: string;
  eventType: string;
  outcome: (typeof METRICS.eventsConsumed.values.outcome)[number];
}

/** The consumer joined its group (after start or a rebalance). */
export interface GroupJoined {
  group: string;
  durationMs: number;
  /** The assignment differs from the one before: a rebalance that moved partitions. */
  changed: boolean;
}

/** Lag of one partition the subscriber owns. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records not yet finished (high watermark minus the group's position). */
  records: number;
  /** Age of the oldest record not yet finished; 0 when caught up. */
  seconds: number;
}

/** What a running subscriber lets metrics read when they are scraped. */
export interface SubscriberProbe {
  group: string;
  /** The subscribed topics (retry topics included). */
  topics: readonly string[];
  /** The main topics, for counters that start at 0 per topic. */
  sourceTopics: readonly string[];
  inFlight(): { records: number; bytes: number; pausedPartitions: number };
  /** The circuit breaker's state; undefined when the subscriber has none. */
  circuit(): 'closed' | 'half-open' | 'open' | undefined;
  /** Asks Kafka for high watermarks; may be slow, so metrics bound it with a timeout. */
  lag(): Promise<PartitionLag[]>;
  /** Records held in each dead-letter topic of the group. */
  deadLetterDepth(): Promise<{ topic: string; records: number }[]>;
}

/** What a running publisher lets metrics read. */
export interface PublisherProbe {
  stats(): { inFlightBytes: number };
}

/** What a running outbox relay lets metrics read. */
export interface OutboxProbe {
  backlog(): Promise<{ pending: number; oldestAgeMs: number }>;
}

/**
 * The running publishers, subscribers and outbox relays of this process, which metrics read when
 * scraped. A registry rather than a channel: a component started before metrics were set up is
 * still found.
 */
export const probes = {
  publishers: new Set<PublisherProbe>(),
  subscribers: new Set<SubscriberProbe>(),
  outboxes: new Set<OutboxProbe>(),
} as const;

/** Adds a probe to one of {@link probes}' sets and tells {@link telemetry}'s `probeAdded`; returns the function that takes it out again. */
export function registerProbe<T extends object>(set: Set<T>, probe: T): () => void {
  set.add(probe);
  if (telemetry.probeAdded.hasSubscribers) telemetry.probeAdded.publish(probe);
  return () => set.delete(probe);
}

/** An HTTP request answered. */
export interface HttpAnswered {
  method: string;
  /** The route pattern (`/v1/events/:type`), never the raw path, so label values stay few. */
  route: string;
  status: number;
  durationMs: number;
}

/** An outbound HTTP call settled (all its attempts), or refused by an open circuit. */
export interface HttpClientCalled {
  /** The origin called (`http://127.0.0.1:8101`): few, so fit for a label. */
  upstream: string;
  method: string;
  /** The last status the upstream answered; undefined when none answered. */
  status?: number;
  outcome: (typeof METRICS.httpClientRequests.values.outcome)[number];
  /** Requests sent, retries included; 0 when the circuit refused the call. */
  attempts: number;
  durationMs: number;
}

/** A diagnostics channel that carries one message type. */
export interface TelemetryChannel<T> {
  readonly name: string;
  readonly hasSubscribers: boolean;
  publish(message: T): void;
  subscribe(listener: (message: T) => void): void;
  unsubscribe(listener: (message: T) => void): void;
}

function channel<T>(name: string): TelemetryChannel<T> {
  const raw = diagnostics.channel(name);
  return {
    name,
    get hasSubscribers() {
      return raw.hasSubscribers;
    },
    publish: (message) => raw.publish(message),
    subscribe: (listener) => raw.subscribe(listener as (message: unknown) => void),
    unsubscribe: (listener) => raw.unsubscribe(listener as (message: unknown) => void),
  };
}

/** Every telemetry channel of Junction, by what it reports. */
export const telemetry = {
  publishSettled: channel<PublishSettled>('junction:publisher:settled'),
  handlerAttempt: channel<HandlerAttempt>('junction:subscriber:attempt'),
  recordFinished: channel<RecordFinished>('junction:subscriber:finished'),
  groupJoined: channel<GroupJoined>('junction:subscriber:joined'),
  httpAnswered: channel<HttpAnswered>('junction:http:answered'),
  httpClientCalled: channel<HttpClientCalled>('junction:http-client:called'),
  /** A publisher, subscriber or relay started: metrics set up its series at once, before anything happens to them. */
  probeAdded: channel<object>('junction:probe:added'),
} as const;
