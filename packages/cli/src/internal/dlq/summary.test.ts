import { DLQ_HEADERS } from '@junction/events';
import { describe, expect, it } from 'vitest';
import type { DlqRecord } from './record.ts';
import { DlqSummary } from './summary.ts';

const record = (code: string | undefined, lastFailure: string | undefined, timestamp = 0): DlqRecord => {
  const headers: Record<string, string> = { [DLQ_HEADERS.group]: 'billing', [DLQ_HEADERS.originalTopic]: 'orders.order' };
  if (code) headers[DLQ_HEADERS.errorCode] = code;
  if (lastFailure) headers[DLQ_HEADERS.lastFailure] = lastFailure;
  return { topic: 't', partition: 0, offset: '0', timestamp, key: null, value: null, rawHeaders: headers, headers };
};

describe('DlqSummary', () => {
  it('counts per error code with the oldest and newest failure', () => {
    const summary = new DlqSummary();
    summary.add(record('event.invalid', '2026-01-02T00:00:00Z'));
    summary.add(record('handler.failed', '2026-01-05T00:00:00Z'));
    summary.add(record('event.invalid', '2026-01-01T00:00:00Z'));
    summary.add(record('event.invalid', '2026-01-03T00:00:00Z'));
    summary.add(record(undefined, undefined, Date.parse('2026-01-04T00:00:00Z')));
    expect(summary.count).toBe(5);
    expect(summary.group).toBe('billing');
    expect(summary.originalTopic).toBe('orders.order');
    expect(summary.codes()).toEqual([
      { code: 'event.invalid', count: 3, oldest: Date.parse('2026-01-01T00:00:00Z'), newest: Date.parse('2026-01-03T00:00:00Z') },
      { code: '(none)', count: 1, oldest: Date.parse('2026-01-04T00:00:00Z'), newest: Date.parse('2026-01-04T00:00:00Z') },
      { code: 'handler.failed', count: 1, oldest: Date.parse('2026-01-05T00:00:00Z'), newest: Date.parse('2026-01-05T00:00:00Z') },
    ]);
  });
});
