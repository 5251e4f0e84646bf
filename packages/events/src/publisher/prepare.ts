import { activeTraceparent, formatTraceparent, JunctionError, parseTraceparent } from '@junction/observability';
import type avro from 'avsc';
import { cloudEventHeaders, randomHexPooled, uuidv7 } from '../cloudevents.ts';
import { invalidEvent } from '../codec.ts';
import { avroType, validate } from '../contracts/avro.ts';
import { type Catalog, type EventContract, type EventVersion, eventContract, eventVersion } from '../contracts/catalog.ts';
import { PII_KEY_ID_HEADER } from '../pii/cipher.ts';
import { encryptEventPii } from '../pii/event.ts';
import type { PiiKeyring } from '../pii/keyring.ts';

/** The event this one reacts to: its id becomes `causation-id`, and its conversation and trace carry on. */
export interface Cause {
  /** `ce_id` of the cause. */
  id: string;
  correlationId?: string;
  traceparent?: string;
  tracestate?: string;
}

/** Per-event choices of `publish`; everything has a sensible default. */
export interface PublishOptions {
  /** The record key; default: the value of the topic's key field in the event. */
  key?: string;
  /** The schema version to write; default: the latest. */
  version?: number;
  /** `ce_id`; default a new UUIDv7. Give the same id when re-publishing the same event, so consumers can drop the copy. */
  id?: string;
  /** `ce_time`; default now. */
  time?: Date;
  /** The event this one reacts to. */
  causedBy?: Cause;
  /** `correlation-id`; default the cause's, or else this event's id (a new conversation). */
  correlationId?: string;
  /** W3C trace context; default a child of the cause's, else of the active span's, else a new trace. */
  traceparent?: string;
  tracestate?: string;
  /** More headers; the envelope's own headers cannot be overridden. */
  headers?: Record<string, string>;
}

/** An event validated and encoded, ready for Kafka but for its schema id and partition. */
export interface PreparedEvent {
  /** `ce_id`. */
  id: string;
  /** The record fullname. */
  type: string;
  version: number;
  topic: string;
  subject: string;
  key: string;
  /** The Avro body, without the Confluent framing (the schema id is added at send time). */
  body: Buffer;
  /**
   * When the body was encoded here: the whole record value, magic byte and room for the schema id
   * before the body (which is a view into it), so that sending costs no copy.
   */
  framed?: Buffer;
  headers: Record<string, string>;
  /** Milliseconds since the epoch, `ce_time`. */
  timestamp: number;
}

/** A W3C `traceparent`: a child span of `parent` when it is valid (keeping its sampling), else a new sampled trace. */
export function childTraceparent(parent?: string): string {
  const span = parseTraceparent(parent);
  return formatTraceparent({
    traceId: span?.traceId ?? randomHexPooled(16),
    spanId: randomHexPooled(8),
    traceFlags: span?.traceFlags ?? 1,
  });
}

/** A record's framing on the wire beyond its key, value and headers (lengths, offsets, attributes), generously. */
const RECORD_OVERHEAD = 64;

const sizes = new WeakMap<PreparedEvent, number>();

/** Bytes an event takes in flight and in a produce request: key, framed body, headers and record overhead. Counted once. */
export function eventBytes(event: PreparedEvent): number {
  let bytes = sizes.get(event);
  if (bytes === undefined) {
    bytes = event.body.length + 5 + Buffer.byteLength(event.key) + RECORD_OVERHEAD;
    // for…in, not Object.entries: no array per header, for every event published.
    const { headers } = event;
    for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string) + 2;
    sizes.set(event, bytes);
  }
  return bytes;
}

/** Where bodies are encoded before they are copied out once, with the framing in front. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** The record value with a zero schema id (filled in at send time), and the body as a view into it. */
function encodeFramed(type: avro.Type, data: unknown): { framed: Buffer; body: Buffer } {
  let end = type.encode(data, scratch, 5);
  if (end < 0) {
    // avsc says how much it lacked (as a negative end): grow once and encode again.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = type.encode(data, scratch, 5);
  }
  const framed = Buffer.allocUnsafe(end);
  scratch.copy(framed, 0, 0, end);
  framed.fill(0, 0, 5);
  return { framed, body: framed.subarray(5) };
}

function keyOf(contract: EventContract, version: EventVersion, data: unknown, given: string | undefined): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || !given)
      throw invalidEvent(`${version.ceType}`, [{ path: '(key)', reason: 'a given key must be a non-empty string' }]);
    return given;
  }
  const value = (data as Record<string, unknown>)[contract.keyField];
  if (typeof value !== 'string' || !value) {
    throw invalidEvent(`${version.ceType}`, [{ path: contract.keyField, reason: 'the key field must be a non-empty string' }], {
      type: contract.type,
    });
  }
  return value;
}

/**
 * Validates `data` against its schema and encodes it, with its key and CloudEvents envelope.
 * Fields marked `junction.pii` are encrypted with `pii` after validation (so problems name clear
 * field paths) and before encoding; without a keyring such an event fails as `config.invalid`.
 * Synchronous and local: nothing is sent, and nothing is asked of the registry.
 */
export function prepareEvent(
  catalog: Catalog,
  source: string,
  input: { type: string; data: unknown; options?: PublishOptions },
  pii?: PiiKeyring,
): PreparedEvent {
  const { type, data, options = {} } = input;
  const contract = eventContract(catalog, type);
  const version = eventVersion(contract, options.version);
  const problems = validate(version.schema, data);
  if (problems.length) throw invalidEvent(version.ceType, problems, { type, version: version.version });
  const key = keyOf(contract, version, data, options.key);
  const id = options.id ?? uuidv7();
  const time = options.time ?? new Date();
  if (Number.isNaN(time.getTime())) throw invalidEvent(version.ceType, [{ path: '(time)', reason: 'ce_time must be a valid Date' }]);
  const envelope = cloudEventHeaders({ type: version.ceType, source, subject: key, id, time });
  const cause = options.causedBy;
  const headers: Record<string, string> = {
    ...options.headers,
    ...envelope,
    traceparent: options.traceparent ?? childTraceparent(cause?.traceparent ?? activeTraceparent()),
    'correlation-id': options.correlationId ?? cause?.correlationId ?? id,
    'causation-id': cause?.id ?? id,
  };
  const tracestate = options.tracestate ?? cause?.tracestate;
  if (tracestate) headers.tracestate = tracestate;
  // Events without PII fields pay one cached lookup here and get `data` back.
  const written = encryptEventPii(version.schema, { type, id }, data, pii);
  if (written !== data && pii) headers[PII_KEY_ID_HEADER] = pii.activeKeyId;
  let encoded: { framed: Buffer; body: Buffer };
  try {
    encoded = encodeFramed(avroType(version.schema), written);
  } catch (error) {
    // validate() passed, so this is a bug of ours or of avsc, not of the caller.
    throw new JunctionError('internal', `${version.ceType} passed validation but did not encode: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    id,
    type,
    version: version.version,
    topic: contract.topic,
    subject: contract.subject,
    key,
    body: encoded.body,
    framed: encoded.framed,
    headers,
    timestamp: time.getTime(),
  };
}
