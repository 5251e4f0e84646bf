import { type AvroCodec, DLQ_HEADERS } from '@junction/events';
import { style } from '../output.ts';
import { coordinates, type DlqRecord, errorCode, isoSeconds, keyText, parseHeaderTime, replayCount } from './record.ts';

/** A record with its value read through the registry, or why it could not be. */
export interface ShownRecord {
  record: DlqRecord;
  decoded?: { schemaId: number; value: unknown };
  /** The error code (`event.undecodable`, `schema.unknown`) and message of a value that does not decode. */
  undecodable?: { code: string; reason: string };
}

/** Codes that say the record's bytes are bad, not that the registry is away: those records are shown, not fatal. */
const UNDECODABLE = new Set(['event.undecodable', 'schema.unknown']);

/** Decodes a record's value with its writer schema; bad bytes and unknown schema ids become `undecodable`. */
export async function decodeRecord(codec: AvroCodec, record: DlqRecord): Promise<ShownRecord> {
  if (record.value === null) return { record };
  try {
    return { record, decoded: await codec.decode(record.value) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && UNDECODABLE.has(code)) return { record, undecodable: { code, reason: (error as Error).message } };
    throw error;
  }
}

/** JSON of decoded Avro: bytes as base64, longs as strings (Dates already print as ISO). */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (
    value &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  )
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  return value;
}

const DLQ_NAMES = new Set<string>(Object.values(DLQ_HEADERS));
const originalHeaders = (record: DlqRecord): Record<string, string> =>
  Object.fromEntries(Object.entries(record.headers).filter(([name]) => !DLQ_NAMES.has(name)));

/** One JSON object (one line) per record: coordinates, key, failure, original headers, and the value or why it is undecodable. */
export function renderJson(shown: ShownRecord): string {
  const { record } = shown;
  const h = record.headers;
  return JSON.stringify(
    {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: new Date(record.timestamp).toISOString(),
      key: keyText(record),
      failure: {
        group: h[DLQ_HEADERS.group] ?? null,
        errorCode: h[DLQ_HEADERS.errorCode] ?? null,
        errorMessage: h[DLQ_HEADERS.errorMessage] ?? null,
        errorStack: h[DLQ_HEADERS.errorStack] ?? null,
        attempts: h[DLQ_HEADERS.attempts] === undefined ? null : Number(h[DLQ_HEADERS.attempts]),
        firstFailure: h[DLQ_HEADERS.firstFailure] ?? null,
        lastFailure: h[DLQ_HEADERS.lastFailure] ?? null,
        fingerprint: h[DLQ_HEADERS.fingerprint] ?? null,
      },
      original: {
        topic: h[DLQ_HEADERS.originalTopic] ?? null,
        partition: h[DLQ_HEADERS.originalPartition] === undefined ? null : Number(h[DLQ_HEADERS.originalPartition]),
        offset: h[DLQ_HEADERS.originalOffset] ?? null,
        timestamp: h[DLQ_HEADERS.originalTimestamp] ?? null,
      },
      replayCount: replayCount(record),
      headers: originalHeaders(record),
      ...(shown.decoded ? { schemaId: shown.decoded.schemaId, value: shown.decoded.value } : {}),
      ...(shown.undecodable
        ? { undecodable: { ...shown.undecodable, hex: record.value?.toString('hex'), base64: record.value?.toString('base64') } }
        : {}),
      ...(record.value === null ? { value: null } : {}),
    },
    jsonValue,
  );
}

/** Shows at most this many bytes of an undecodable value in hex; base64 has them all. */
const HEX_BYTES = 64;
const STACK_LINES = 4;
const LABEL = 12;
const INDENT = ' '.repeat(LABEL + 2);

/** A readable block for one record: where it is, why it failed, where it came from, and its event. */
export function renderText(shown: ShownRecord): string {
  const { record } = shown;
  const h = record.headers;
  const time = (name: string) => {
    const ms = parseHeaderTime(h[name]);
    return ms === undefined ? (h[name] ?? '?') : isoSeconds(ms);
  };
  const lines = [style('bold', `${coordinates(record)}  key ${keyText(record) ?? '(none)'}`)];
  const field = (label: string, text: string) => lines.push(`  ${label.padEnd(LABEL)}${text}`);
  field('error', `${style('red', errorCode(record))}: ${h[DLQ_HEADERS.errorMessage] ?? '(no message)'}`);
  // The stack's first line repeats the message; its frames say where.
  const frames = (h[DLQ_HEADERS.errorStack] ?? '').split('\n').slice(1, 1 + STACK_LINES);
  for (const [i, frame] of frames.entries()) field(i === 0 ? 'stack' : '', style('dim', frame.trim()));
  field(
    'failed',
    `${h[DLQ_HEADERS.attempts] ?? '?'} attempt(s), first ${time(DLQ_HEADERS.firstFailure)}, last ${time(DLQ_HEADERS.lastFailure)}${
      replayCount(record) ? `, replayed ${replayCount(record)} time(s)` : ''
    }`,
  );
  field(
    'original',
    `${h[DLQ_HEADERS.originalTopic] ?? '?'}/${h[DLQ_HEADERS.originalPartition] ?? '?'}@${h[DLQ_HEADERS.originalOffset] ?? '?'} at ${time(
      DLQ_HEADERS.originalTimestamp,
    )}, group ${h[DLQ_HEADERS.group] ?? '?'}`,
  );
  if (h[DLQ_HEADERS.fingerprint]) field('fingerprint', h[DLQ_HEADERS.fingerprint] ?? '');
  const others = Object.entries(originalHeaders(record));
  for (const [i, [name, value]] of others.entries()) field(i === 0 ? 'headers' : '', `${name}: ${value}`);
  if (record.value === null) field('value', '(none: a tombstone)');
  else if (shown.decoded) {
    const json = JSON.stringify(shown.decoded.value, jsonValue, 2).replace(/\n/g, `\n${INDENT}`);
    field('value', `schema ${shown.decoded.schemaId}: ${json}`);
  } else if (shown.undecodable) {
    const value = record.value;
    field('value', style('yellow', `UNDECODABLE (${shown.undecodable.code}: ${shown.undecodable.reason})`));
    field(
      'hex',
      `${value.subarray(0, HEX_BYTES).toString('hex')}${value.length > HEX_BYTES ? `… (${value.length} bytes)` : ` (${value.length} bytes)`}`,
    );
    field('base64', value.toString('base64'));
  }
  return lines.join('\n');
}
