export { type BackoffOptions, backoffDelay, type RetryOptions, retrying } from './backoff.ts';
export { type CloudEventAttributes, cloudEventHeaders, headersToStrings, subjectName, uuidv7 } from './cloudevents.ts';
export { type AvroCodec, type AvroCodecOptions, createAvroCodec, type Decoded, registryError } from './codec.ts';
