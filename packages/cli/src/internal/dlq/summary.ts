import { DLQ_HEADERS } from '@junction/events';
import { type DlqRecord, errorCode, failedAt } from './record.ts';

/** The records of one error code: how many, and when the oldest and newest failed (ms). */
export interface CodeSummary {
  code: string;
  count: number;
  oldest: number;
  newest: number;
}

/** Counts what a dead-letter topic holds, one record at a time, so a big topic is never held in memory. */
export class DlqSummary {
  /** Records seen. */
  count = 0;
  /** `junction.dlq.group` and `junction.dlq.original-topic` of the first record that has them. */
  group?: string;
  originalTopic?: string;
  readonly #codes = new Map<string, CodeSummary>();

  /** Counts one record. */
  add(record: DlqRecord): void {
    this.count += 1;
    this.group ??= record.headers[DLQ_HEADERS.group];
    this.originalTopic ??= record.headers[DLQ_HEADERS.originalTopic];
    const code = errorCode(record);
    const at = failedAt(record);
    const entry = this.#codes.get(code);
    if (!entry) this.#codes.set(code, { code, count: 1, oldest: at, newest: at });
    else {
      entry.count += 1;
      entry.oldest = Math.min(entry.oldest, at);
      entry.newest = Math.max(entry.newest, at);
    }
  }

  /** Per error code, the most frequent first (then by code). */
  codes(): CodeSummary[] {
    return [...this.#codes.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }
}
