import { DLQ_HEADERS, REPLAY_COUNT_HEADER, RETRY_HEADERS } from '@junction/events';
import { describe, expect, it } from 'vitest';
import type { DlqRecord } from './record.ts';
import { planReplay, replayHeaders } from './replay-plan.ts';

const record = (offset: number, headers: Record<string, string>): DlqRecord => ({
  topic: 'billing.orders.order.dlq',
  partition: 0,
  offset: String(offset),
  timestamp: 0,
  key: Buffer.from(`k${offset}`),
  value: Buffer.from([0, 0, 0, 0, 1, 2]),
  rawHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
  headers,
});

const failure = (code: string, extra: Record<string, string> = {}) => ({
  ce_id: '0190-id',
  ce_type: 'com.junction.orders.OrderPlaced.v1',
  traceparent: '00-abc-def-01',
  [DLQ_HEADERS.originalTopic]: 'orders.order',
  [DLQ_HEADERS.originalPartition]: '2',
  [DLQ_HEADERS.originalOffset]: '17',
  [DLQ_HEADERS.group]: 'billing',
  [DLQ_HEADERS.errorCode]: code,
  [DLQ_HEADERS.errorMessage]: 'boom',
  [DLQ_HEADERS.lastFailure]: '2026-01-01T00:00:00Z',
  ...extra,
});

describe('replayHeaders', () => {
  it('keeps the original headers byte for byte, drops DLQ and retry headers, sets the replay count', () => {
    const r = record(0, failure('event.invalid', { [RETRY_HEADERS.attempts]: '3', [REPLAY_COUNT_HEADER]: '1' }));
    const headers = replayHeaders(r, 2);
    expect(Object.keys(headers).sort()).toEqual(['ce_id', 'ce_type', REPLAY_COUNT_HEADER, 'traceparent']);
    expect(headers.ce_id).toBe(r.rawHeaders.ce_id);
    expect(headers[REPLAY_COUNT_HEADER]).toBe('2');
  });

  it('drops every named DLQ and retry header', () => {
    const all = [...Object.values(DLQ_HEADERS), ...Object.values(RETRY_HEADERS)];
    const headers = replayHeaders(record(0, Object.fromEntries(all.map((name) => [name, 'x']))), 1);
    expect(Object.keys(headers)).toEqual([REPLAY_COUNT_HEADER]);
  });
});

describe('planReplay', () => {
  const records = [
    record(0, failure('event.invalid')),
    record(1, failure('handler.failed')),
    record(2, failure('event.invalid', { [REPLAY_COUNT_HEADER]: '3' })),
    record(3, failure('event.invalid', { [REPLAY_COUNT_HEADER]: '2' })),
    record(4, { [DLQ_HEADERS.errorCode]: 'event.invalid' }),
  ];

  it('sends matching records to their original topic with the count incremented, refuses past the limit', () => {
    const plan = planReplay(records, { filter: { code: 'event.invalid' }, maxReplays: 3 });
    expect(plan.filteredOut).toBe(1);
    expect(plan.send.map((s) => [s.record.offset, s.topic, s.count])).toEqual([
      ['0', 'orders.order', 1],
      ['3', 'orders.order', 3],
    ]);
    expect(plan.refused.map((r) => [r.record.offset, r.reason])).toEqual([
      ['2', 'replayed 3 times already (--max-replays 3)'],
      ['4', `no ${DLQ_HEADERS.originalTopic} header (name the topic with --to)`],
    ]);
  });

  it('sends everything to --to when given', () => {
    const plan = planReplay(records, { filter: {}, to: 'orders.order.fixed', maxReplays: 10 });
    expect(plan.send.map((s) => s.topic)).toEqual(Array(5).fill('orders.order.fixed'));
    expect(plan.refused).toEqual([]);
  });

  it('with --max-replays 0 refuses everything: nothing is ever replayed', () => {
    const plan = planReplay(records, { filter: {}, maxReplays: 0 });
    expect(plan.send).toEqual([]);
    expect(plan.refused).toHaveLength(5);
  });
});
