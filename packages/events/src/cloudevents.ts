import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from a pool refilled 4 KiB at a time: one call into the CSPRNG per ~250 ids, not per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** Where the next `size` random bytes start in the pool, refilled first when it has fewer left. */
function takePooled(size: number): number {
  if (poolOffset + size > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += size;
  return at;
}

/** `size` cryptographically random bytes, copied out of the pool. */
export function randomBytesPooled(size: number): Buffer {
  const at = takePooled(size);
  return Buffer.from(pool.subarray(at, at + size));
}

/** `size` cryptographically random bytes as lowercase hex, read straight off the pool (no Buffer of their own). */
export function randomHexPooled(size: number): string {
  const at = takePooled(size);
  return pool.toString('hex', at, at + size);
}

let lastMillis = 0;
let sequence = 0;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** A UUID's text, its dashes in place; the digits are written over for each id. */
const uuidText = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness. Ids made in one
 * process sort in creation order, even within a millisecond (a 12-bit counter in rand_a).
 * Made in the pool's bytes, which are used once (one per event published: no Buffer of its own).
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMillis) {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMillis += 1;
  } else {
    lastMillis = now;
    sequence = pool.readUInt16BE(takePooled(2)) & 0x7ff;
  }
  const at = takePooled(16);
  pool.writeUIntBE(lastMillis, at, 6);
  pool[at + 6] = 0x70 | (sequence >> 8);
  pool[at + 7] = sequence & 0xff;
  pool[at + 8] = 0x80 | ((pool[at + 8] ?? 0) & 0x3f);
  // Written as text into a buffer of its own and read out once: one flat string per id, not a hex
  // string, five slices and a chain of concatenations.
  let to = 0;
  for (let i = 0; i < 16; i += 1) {
    if (i === 4 || i === 6 || i === 8 || i === 10) to += 1;
    const byte = pool[at + i] ?? 0;
    uuidText[to] = HEX_DIGITS[byte >> 4] ?? 0;
    uuidText[to + 1] = HEX_DIGITS[byte & 0xf] ?? 0;
    to += 2;
  }
  return uuidText.toString('latin1', 0, 36);
}

/** What an event says about itself, carried in CloudEvents headers. */
export interface CloudEventAttributes {
  /** `com.junction.<domain>.<EventName>.v<N>`. */
  type: string;
  /** The producing service, as a URI reference, e.g. `/junction/orders`. */
  source: string;
  /** The aggregate id, also the record key. */
  subject: string;
  /** Default: a new UUIDv7. */
  id?: string;
  /** Default: now. */
  time?: Date;
}

let isoMillis = Number.NaN;
let isoText = '';

/** `time` as ISO 8601; the last one is remembered, as events published together share their millisecond. */
function isoTime(time: Date): string {
  const millis = time.getTime();
  if (millis !== isoMillis) {
    isoText = time.toISOString();
    isoMillis = millis;
  }
  return isoText;
}

/** Kafka headers of the CloudEvents Kafka protocol binding, binary content mode. */
export function cloudEventHeaders(attributes: CloudEventAttributes): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: attributes.id ?? uuidv7(),
    ce_source: attributes.source,
    ce_type: attributes.type,
    ce_time: isoTime(attributes.time ?? new Date()),
    ce_subject: attributes.subject,
    'content-type': 'application/avro',
  };
}

/** Reads Kafka record headers (Buffers, strings or arrays of them) into strings. It runs for every record consumed. */
export function headersToStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in headers) {
    if (!Object.hasOwn(headers, key)) continue;
    const value = headers[key];
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined || first === null) continue;
    const text = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
    // A header named __proto__ is a header like any other, not this object's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: text, enumerable: true, writable: true, configurable: true });
    else out[key] = text;
  }
  return out;
}
