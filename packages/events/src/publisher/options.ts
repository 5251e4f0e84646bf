import { JunctionError } from '@junction/observability';
import { z } from 'zod';
import type { BackoffOptions } from '../backoff.ts';
import type { AvroCodec } from '../codec.ts';
import type { Catalog } from '../contracts/catalog.ts';
import { PUBLISH_COMPRESSIONS, type PublishCompression } from '../kafka/compression.ts';
import type { KafkaOption } from '../kafka-connection.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';

/** Options of `createPublisher`. */
export interface PublisherOptions {
  /** The publishing service, e.g. `orders`: `ce_source` is `/junction/<service>`. */
  service: string;
  /** A kafkajs client, or the connection (brokers, TLS, SASL; see `kafkaConnectionFromEnv`) to make one for. */
  kafka: KafkaOption;
  /** The registry's Confluent-compatible API, or a codec over it. */
  registry: { url: string } | AvroCodec;
  /** The topics and event contracts (the generated `catalog`, or `loadCatalog('schemas')`). */
  catalog: Catalog;
  /**
   * Register schemas that the registry lacks. Off by default: in production schemas are
   * registered by `./junction schemas register` (CI), and a service that finds its schema missing
   * should fail loudly rather than create contracts behind the owners' back.
   */
  autoRegister?: boolean;
  /**
   * How long one publish waits for Kafka's acknowledgement, retries included (a leader failover
   * takes Kafka about 10 s). Past it the publish fails as `publisher.outcome-unknown`, naming its
   * events: Kafka may have written them. Default 30 s.
   */
  sendTimeoutMs?: number;
  /** Encoded bytes accepted but not yet acknowledged, at most. Default 16 MiB. */
  maxInFlightBytes?: number;
  /**
   * Produce requests in flight at once, each on a producer of its own; a partition always goes
   * through the same one, so it never has two requests out and its events stay in order. More
   * lets one request be built while another is at the broker (a remote broker, acks from
   * replicas far away); on a machine whose cores the broker shares, more, smaller requests cost
   * more than they overlap (README, Performance). With more than one, a key whose partition
   * changes (partitions added to its topic) may have an event in flight under each partition at
   * once, so its order across the change is not kept; with one it is. Default 1 (1 to 8).
   */
  maxInFlightRequests?: number;
  /** How long `publish` waits for room under `maxInFlightBytes` before `publisher.backpressure`. Default 5 s. */
  backpressureTimeoutMs?: number;
  /**
   * Largest batch for one partition in a produce request, built from waiting events. Default
   * 896 KiB: each partition's batch must stay under the broker's `message.max.bytes` (1 MiB by default).
   */
  maxBatchBytes?: number;
  /** Largest single event (key, value and headers). Default 1,000,000 bytes, under the broker's default limit. */
  maxEventBytes?: number;
  /**
   * How record batches are compressed: `gzip` or `zstd` (zstd compresses about as well for far
   * less CPU), or `none`. Worth it when the network or the brokers' disks are the bound; on one
   * machine it costs CPU and gains nothing. Consumers read every compression Kafka has, whatever
   * this says. Default `none`.
   */
  compression?: PublishCompression;
  /** Retries of a broker or registry call that failed retriably, and their backoff. */
  retry?: Partial<BackoffOptions> & { retries?: number };
  /**
   * The keys that encrypt `junction.pii` fields. Default: the environment's (`piiKeyringFromEnv`);
   * `false`: none (publishing an event with PII fields then fails as `config.invalid`).
   */
  pii?: PiiKeyring | false;
}

/** Options with every default applied. */
export interface ResolvedPublisherOptions {
  service: string;
  autoRegister: boolean;
  sendTimeoutMs: number;
  maxInFlightBytes: number;
  maxInFlightRequests: number;
  backpressureTimeoutMs: number;
  maxBatchBytes: number;
  maxEventBytes: number;
  compression: PublishCompression;
  retry: BackoffOptions & { retries: number };
  /** Undefined when neither the options nor the environment give keys. */
  pii: PiiKeyring | undefined;
}

const MiB = 1024 * 1024;

const schema = z.object({
  service: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a service name in lower case, e.g. orders'),
  autoRegister: z.boolean().default(false),
  sendTimeoutMs: z.number().int().min(100).default(30_000),
  maxInFlightBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(16 * MiB),
  maxInFlightRequests: z.number().int().min(1).max(8).default(1),
  backpressureTimeoutMs: z.number().int().min(0).default(5000),
  maxBatchBytes: z
    .number()
    .int()
    .min(1024)
    .default(896 * 1024),
  maxEventBytes: z.number().int().min(1024).default(1_000_000),
  compression: z.enum(PUBLISH_COMPRESSIONS).default('none'),
  retry: z
    .object({
      retries: z.number().int().min(0).max(20).default(5),
      initialMs: z.number().int().min(1).default(100),
      multiplier: z.number().min(1).default(2),
      maxMs: z.number().int().min(1).default(5000),
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .default({ retries: 5, initialMs: 100, multiplier: 2, maxMs: 5000, jitter: 0.2 }),
});

/** Checks the options once, reporting every problem together in one `config.invalid` error. */
export function resolvePublisherOptions(options: PublisherOptions): ResolvedPublisherOptions {
  const { kafka: _kafka, registry: _registry, catalog, pii: givenPii, ...rest } = options;
  const parsed = schema.safeParse(rest);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  let pii: PiiKeyring | undefined;
  try {
    pii = givenPii === undefined ? piiKeyringFromEnv() : givenPii || undefined;
  } catch (error) {
    problems.push(...(((error as JunctionError).context?.problems as string[] | undefined) ?? [(error as Error).message]));
  }
  if (!catalog || !Array.isArray(catalog.events) || !Array.isArray(catalog.topics))
    problems.push('catalog: expected the catalog of schemas/');
  if (parsed.success && parsed.data.maxBatchBytes > parsed.data.maxInFlightBytes)
    problems.push('maxBatchBytes: must not exceed maxInFlightBytes');
  if (!parsed.success || problems.length) {
    throw new JunctionError('config.invalid', `publisher options are not valid: ${problems.join('; ')}`, { context: { problems } });
  }
  return { ...parsed.data, pii };
}
