import { type Admin, type Consumer, Kafka, type LogEntry, logLevel, type Producer } from 'kafkajs';
import { isKafkaConnection, type KafkaOption, kafkaSecurityConfig } from '../kafka-connection.ts';
import { registerCompressionCodecs } from './compression.ts';

/**
 * Junction's one way to Kafka: the only place that makes producers, consumers and admin clients,
 * with the settings Junction's guarantees rest on, so that no caller can forget one (an
 * idempotent producer, acks=all, no topic auto-creation, heartbeats that outlast a fetch).
 * Failures of what it makes become `JunctionError`s in `errors.ts`, beside it.
 *
 * kafkajs (with our patch: `patches/kafkajs@2.2.4.patch`) is the client, chosen by measurement
 * (README, "The Kafka client"); the port hands out its interfaces as they are, with codecs for
 * every compression Kafka has registered (`compression.ts`).
 */
export interface KafkaPort {
  /** Marks a port, so that no other object (a kafkajs client of another copy of kafkajs) passes for one. */
  readonly [PORT]: true;
  /** The SASL user its clients connect as, for messages; undefined without SASL or for a client given as it is. */
  readonly user: string | undefined;
  /**
   * An idempotent producer: the broker drops a retried copy of a batch, one request in flight,
   * and topics are never created by sending to them. Acks are the sender's to ask (always -1 in
   * Junction). `retry` bounds how long a request is retried (default: the port's).
   */
  producer(options?: { retry?: RetrySettings }): Producer;
  /**
   * A consumer of group `groupId` that never creates topics, heartbeating every tenth of its
   * session timeout and waiting at most a quarter of it (and 1 s) in a fetch, so that a fetch
   * never starves the session.
   */
  consumer(options: ConsumerSettings): Consumer;
  /** An admin client; `retry` bounds its calls' retries (default: the port's). */
  admin(options?: { retry?: RetrySettings }): Admin;
}

const PORT = Symbol.for('junction.kafka-port');

/** Whether `option` is a port already. */
export function isKafkaPort(option: unknown): option is KafkaPort {
  return typeof option === 'object' && option !== null && (option as { [PORT]?: unknown })[PORT] === true;
}

/** The SASL user of a client option, for error messages; undefined when unknown or none. */
export function kafkaUser(option: KafkaOption): string | undefined {
  if (isKafkaConnection(option)) return option.sasl?.username;
  return isKafkaPort(option) ? option.user : undefined;
}

/** Retries of a failed request: how many, and the backoff between them. */
export interface RetrySettings {
  retries: number;
  initialMs?: number;
  maxMs?: number;
  multiplier?: number;
  /** Jitter, as a fraction of each wait. */
  jitter?: number;
}

/** A consumer's group and timing. */
export interface ConsumerSettings {
  groupId: string;
  /** Default 30 s, as Kafka's. */
  sessionTimeoutMs?: number;
  /** Longest wait of a fetch for data; default min(1 s, a quarter of the session timeout). */
  maxWaitMs?: number;
  retry?: RetrySettings;
}

/** The client's name and timeouts, shared by everything a port makes. */
export interface PortSettings {
  clientId: string;
  /** How long connecting to a broker may take. Default 3 s. */
  connectionTimeoutMs?: number;
  /** How long a request may wait for its answer. Default 30 s. */
  requestTimeoutMs?: number;
  retry?: RetrySettings;
  /**
   * Sees every entry the clients log, down to debug level; for a diagnosis that needs what
   * kafkajs only logs (a FindCoordinator error code). Default: the clients log nothing.
   */
  onLog?: (entry: { message: string; error?: unknown }) => void;
}

const retryConfig = (retry: RetrySettings) => ({
  retries: retry.retries,
  ...(retry.initialMs !== undefined ? { initialRetryTime: retry.initialMs } : {}),
  ...(retry.maxMs !== undefined ? { maxRetryTime: retry.maxMs } : {}),
  ...(retry.multiplier !== undefined ? { multiplier: retry.multiplier } : {}),
  ...(retry.jitter !== undefined ? { factor: retry.jitter } : {}),
});

/**
 * The port to Kafka for a connection (brokers, TLS, SASL), for a kafkajs client given as it is
 * (its own client settings then stand; what the port makes of it still has the port's), or a
 * port given as it is.
 */
export function kafkaPort(option: KafkaOption, settings: PortSettings): KafkaPort {
  // Every client of the process reads every compression Kafka has (kafkajs's codecs are shared).
  registerCompressionCodecs();
  if (isKafkaPort(option)) return option;
  // Not a connection: a kafkajs client, perhaps of another copy of kafkajs (not `instanceof`).
  const kafka = !isKafkaConnection(option)
    ? option
    : new Kafka({
        clientId: settings.clientId,
        brokers: option.brokers,
        ...kafkaSecurityConfig(option),
        ...(settings.onLog
          ? {
              logLevel: logLevel.DEBUG,
              logCreator: () => (entry: LogEntry) => settings.onLog?.(entry.log as { message: string; error?: unknown }),
            }
          : { logLevel: logLevel.NOTHING }),
        connectionTimeout: settings.connectionTimeoutMs ?? 3000,
        requestTimeout: settings.requestTimeoutMs ?? 30_000,
        ...(settings.retry ? { retry: retryConfig(settings.retry) } : {}),
      });
  return {
    [PORT]: true,
    user: kafkaUser(option),
    producer: (options = {}) =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        ...(options.retry ? { retry: retryConfig(options.retry) } : {}),
      }),
    consumer: ({ groupId, sessionTimeoutMs = 30_000, maxWaitMs, retry }) =>
      kafka.consumer({
        groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 10)),
        // kafkajs heartbeats between fetches: a fetch may not wait long enough to starve the session.
        // kafkajs also sleeps this long when every partition is paused (an open breaker).
        maxWaitTimeInMs: maxWaitMs ?? Math.min(1000, Math.floor(sessionTimeoutMs / 4)),
        ...(retry ? { retry: retryConfig(retry) } : {}),
      }),
    admin: (options = {}) => kafka.admin(options.retry ? { retry: retryConfig(options.retry) } : {}),
  };
}
