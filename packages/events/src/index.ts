export { type FieldProblem, JunctionError, type JunctionErrorCode } from '@junction/observability';
export { type BackoffOptions, backoffDelay, type RetryOptions, retrying } from './backoff.ts';
export { type CloudEventAttributes, cloudEventHeaders, headersToStrings, uuidv7 } from './cloudevents.ts';
export { type AvroCodec, type AvroCodecOptions, createAvroCodec, type Decoded, frame, invalidEvent } from './codec.ts';
export {
  ACL_OPERATIONS,
  type AclBinding,
  type AclChanges,
  type ApplyAclsOptions,
  aclBindings,
  aclRows,
  applyAcls,
  servicePrincipal,
} from './contracts/acls.ts';
export { type AvroSchema, avroType, validate } from './contracts/avro.ts';
export {
  type Catalog,
  CLEANUP_POLICIES,
  COMPATIBILITY_MODES,
  type Compatibility,
  catalogPiiNames,
  type EventContract,
  type EventVersion,
  eventContract,
  eventVersion,
  piiFields,
  renameTopics,
  subjectName,
  type TopicContract,
  topicContract,
} from './contracts/catalog.ts';
export {
  type CompatibilityProblem,
  checkCompatibility,
  describeType,
  RESOLUTION_RULES,
  type SchemaBreak,
  type SchemaLabels,
  schemaBreaks,
  type VersionedSchema,
} from './contracts/compatibility.ts';
export { loadCatalog, parseRetention } from './contracts/load.ts';
export {
  type CompatibilityVerdict,
  createRegistryAdmin,
  type RegisteredSchema,
  type RegistryAdmin,
  type RegistryAdminOptions,
} from './contracts/registry-admin.ts';
export { createTopicsReady, type EnsureTopicsOptions, type EnsureTopicsResult, ensureTopics, type TopicDrift } from './contracts/topics.ts';
export { MAX_DECOMPRESSED_BYTES, PUBLISH_COMPRESSIONS, type PublishCompression } from './kafka/compression.ts';
export { brokerDenied, type DenialContext, groupDenied, kafkaError } from './kafka/errors.ts';
export {
  type ConsumerSettings,
  isKafkaPort,
  type KafkaPort,
  kafkaPort,
  kafkaUser,
  type PortSettings,
  type RetrySettings,
} from './kafka/port.ts';
export {
  isKafkaConnection,
  type KafkaConnection,
  type KafkaOption,
  type KafkaSasl,
  kafkaConnectionFromEnv,
  kafkaSecurityConfig,
} from './kafka-connection.ts';
export { type Database, fromPGlite, fromPgPool, openPGlite, openPostgres, type Queryable } from './outbox/database.ts';
export { migrateOutbox } from './outbox/migrations.ts';
export { createOutbox, type Outbox, type OutboxEvent, type OutboxOptions } from './outbox/outbox.ts';
export { createOutboxRelay, type OutboxBacklog, type OutboxRelay, type OutboxRelayOptions } from './outbox/relay.ts';
export {
  decryptPii,
  encryptPii,
  isPiiCiphertext,
  PII_CIPHERTEXT_PREFIX,
  PII_KEY_ID_HEADER,
  type PiiBinding,
  piiKeyIdOf,
} from './pii/cipher.ts';
export { decryptEventPii, encryptEventPii, maskEventPii, PII_MASK, type PiiEvent } from './pii/event.ts';
export {
  createPiiKeyring,
  generatePiiKey,
  PII_KEY_ID,
  type PiiKeyring,
  type PiiKeyringOptions,
  piiKeyringFromEnv,
} from './pii/keyring.ts';
export { type PiiPlan, type PiiPlanNode, piiPlan, piiSchemaProblems } from './pii/plan.ts';
export { type PublisherOptions, resolvePublisherOptions } from './publisher/options.ts';
export { type Cause, childTraceparent, type PreparedEvent, type PublishOptions, prepareEvent } from './publisher/prepare.ts';
export { createPublisher, type EventInput, type Publisher, type PublisherStats, type PublishResult } from './publisher/publisher.ts';
export { type ClosableProbe, kafkaReadiness, registryReadiness } from './readiness.ts';
export { type AfterCommitOptions, afterCommit } from './subscriber/after-commit.ts';
export { type CircuitBreaker, type CircuitBreakerOptions, type CircuitState, circuitBreaker } from './subscriber/circuit-breaker.ts';
export { type DeadLetterOptions, deadLetter } from './subscriber/dead-letter.ts';
export { type DecodeOptions, decode } from './subscriber/decode.ts';
export { type IdempotencyOptions, idempotency } from './subscriber/idempotency.ts';
export { type MemoryInboxOptions, memoryInbox } from './subscriber/inbox/memory.ts';
export { type PostgresInboxOptions, postgresInbox } from './subscriber/inbox/postgres.ts';
export { type RedisInboxOptions, redisInbox } from './subscriber/inbox/redis.ts';
export type { InboxKey, InboxStore, InboxVerdict } from './subscriber/inbox/store.ts';
export { type RetryInPlaceOptions, type RetrySleep, retryInPlace } from './subscriber/retry.ts';
export { type RetryTopicsOptions, retryStage, retryTopics } from './subscriber/retry-topics.ts';
export { stopOnSignals } from './subscriber/signals.ts';
export { createSubscriber } from './subscriber/subscriber.ts';
export type { Subscriber, SubscriberOptions, SubscriberStats } from './subscriber/subscriber-options.ts';
export { type TimeoutOptions, timeout } from './subscriber/timeout.ts';
export type { Outcome, RecordSink } from './subscriber/types.ts';
export {
  chain,
  type DecodedEvent,
  DLQ_HEADERS,
  deadLetterTopic,
  type EventContext,
  type Handler,
  type InboundRecord,
  type Middleware,
  REPLAY_COUNT_HEADER,
  RETRY_HEADERS,
  retryTopic,
} from './subscriber/types.ts';
