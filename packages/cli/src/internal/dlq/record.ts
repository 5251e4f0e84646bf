import { DLQ_HEADERS, headersToStrings, REPLAY_COUNT_HEADER } from '@junction/events';
import type { IHeaders, KafkaMessage } from 'kafkajs';

/** One record of a dead-letter topic, as read: raw bytes for replay, strings for people. */
export interface DlqRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch: when the record was written to the dead-letter topic. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** The headers exactly as read (Buffers, repeated names as arrays), so a replay sends the same bytes. */
  rawHeaders: IHeaders;
  /** The same headers as UTF-8 strings (the first value of a repeated name). */
  headers: Record<string, string>;
}

/** A kafkajs message of `topic`/`partition` as a {@link DlqRecord}. */
export function toDlqRecord(topic: string, partition: number, message: KafkaMessage): DlqRecord {
  const rawHeaders = message.headers ?? {};
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    rawHeaders,
    headers: headersToStrings(rawHeaders as Record<string, unknown>),
  };
}

/** The record key as text; `null` for a record without one. */
export const keyText = (record: DlqRecord): string | null => (record.key === null ? null : record.key.toString('utf8'));

/** The error code that sent the record here; `(none)` when the header is missing. */
export const errorCode = (record: DlqRecord): string => record.headers[DLQ_HEADERS.errorCode] || '(none)';

/** Reads a header time: ISO 8601 (what the runtime writes) or milliseconds since the epoch. */
export function parseHeaderTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** When the record last failed: `junction.dlq.last-failure`, else the record's own timestamp. */
export const failedAt = (record: DlqRecord): number => parseHeaderTime(record.headers[DLQ_HEADERS.lastFailure]) ?? record.timestamp;

/** How often the record was replayed from a dead-letter topic already (`junction.replay.count`; absent = 0). */
export function replayCount(record: DlqRecord): number {
  const count = Number.parseInt(record.headers[REPLAY_COUNT_HEADER] ?? '0', 10);
  return Number.isFinite(count) && count > 0 ? count : 0;
}

/** `topic/partition@offset`, how the CLI names one record. */
export const coordinates = (record: DlqRecord): string => `${record.topic}/${record.partition}@${record.offset}`;

/** An ISO time to the second, e.g. `2026-05-03T10:11:12Z`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Orders records by partition, then offset: the order they sit in the topic. */
export function byPosition(a: DlqRecord, b: DlqRecord): number {
  if (a.partition !== b.partition) return a.partition - b.partition;
  const diff = BigInt(a.offset) - BigInt(b.offset);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}
