export { type BackoffOptions, backoffDelay, type RetryOptions, retrying } from './backoff.ts';
export { type CloudEventAttributes, cloudEventHeaders, headersToStrings, uuidv7 } from './cloudevents.ts';
export { type AvroCodec, type AvroCodecOptions, createAvroCodec, type Decoded, registryError } from './codec.ts';
export { type AvroSchema, avroType, type FieldProblem, validate } from './contracts/avro.ts';
export {
  type Catalog,
  CLEANUP_POLICIES,
  COMPATIBILITY_MODES,
  type Compatibility,
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
export { loadCatalog, parseRetention } from './contracts/load.ts';
