import { InvalidArgumentError } from 'commander';
import { type DlqRecord, errorCode, failedAt, keyText } from './record.ts';

/** Which records a `show` or `replay` acts on; every given field must match. */
export interface RecordFilter {
  /** `junction.dlq.error-code` equals this. */
  code?: string;
  /** The record key (UTF-8) equals this. */
  key?: string;
  /** Failed at or after this time (ms), see {@link failedAt}. */
  since?: number;
  /** Failed before this time (ms). */
  until?: number;
}

/** True when `record` passes every condition of `filter`. */
export function matches(record: DlqRecord, filter: RecordFilter): boolean {
  if (filter.code !== undefined && errorCode(record) !== filter.code) return false;
  if (filter.key !== undefined && keyText(record) !== filter.key) return false;
  const at = failedAt(record);
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at >= filter.until) return false;
  return true;
}

/** A commander parser for an ISO 8601 time (`2026-05-03`, `2026-05-03T10:00:00Z`); returns ms since the epoch. */
export function isoTime(value: string): number {
  // Date.parse takes many shapes; only ISO dates (with an optional time) are meant here.
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-05-03T10:00:00Z, got "${value}"`);
  return ms;
}
