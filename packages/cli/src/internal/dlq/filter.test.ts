import { DLQ_HEADERS, REPLAY_COUNT_HEADER } from '@junction/events';
import { describe, expect, it } from 'vitest';
import { isoTime, matches } from './filter.ts';
import { type DlqRecord, failedAt, parseHeaderTime, replayCount } from './record.ts';

const record = (headers: Record<string, string>, key: string | null = 'k1', timestamp = Date.parse('2026-01-01T00:00:00Z')): DlqRecord => ({
  topic: 'g.t.dlq',
  partition: 0,
  offset: '0',
  timestamp,
  key: key === null ? null : Buffer.from(key),
  value: null,
  rawHeaders: headers,
  headers,
});

describe('record headers', () => {
  it('reads the failure time from last-failure (ISO or ms), else the record timestamp', () => {
    expect(failedAt(record({ [DLQ_HEADERS.lastFailure]: '2026-02-03T04:05:06.000Z' }))).toBe(Date.parse('2026-02-03T04:05:06Z'));
    expect(failedAt(record({ [DLQ_HEADERS.lastFailure]: '1700000000000' }))).toBe(1_700_000_000_000);
    expect(failedAt(record({ [DLQ_HEADERS.lastFailure]: 'yesterday' }))).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseHeaderTime(undefined)).toBeUndefined();
  });

  it('counts replays from the header, absent or nonsense as 0', () => {
    expect(replayCount(record({}))).toBe(0);
    expect(replayCount(record({ [REPLAY_COUNT_HEADER]: '3' }))).toBe(3);
    expect(replayCount(record({ [REPLAY_COUNT_HEADER]: 'x' }))).toBe(0);
  });
});

describe('matches', () => {
  const failed = (iso: string, code = 'event.invalid', key: string | null = 'k1') =>
    record({ [DLQ_HEADERS.lastFailure]: iso, [DLQ_HEADERS.errorCode]: code }, key);

  it('passes everything without conditions', () => {
    expect(matches(record({}, null), {})).toBe(true);
  });

  it('matches code and key exactly', () => {
    expect(matches(failed('2026-01-01T00:00:00Z'), { code: 'event.invalid', key: 'k1' })).toBe(true);
    expect(matches(failed('2026-01-01T00:00:00Z'), { code: 'event.invalid.x' })).toBe(false);
    expect(matches(failed('2026-01-01T00:00:00Z'), { key: 'k' })).toBe(false);
    expect(matches(failed('2026-01-01T00:00:00Z', 'x', null), { key: 'k1' })).toBe(false);
    expect(matches(record({}), { code: '(none)' })).toBe(true);
  });

  it('keeps failures in [since, until)', () => {
    const since = Date.parse('2026-01-02T00:00:00Z');
    const until = Date.parse('2026-01-03T00:00:00Z');
    expect(matches(failed('2026-01-01T23:59:59Z'), { since, until })).toBe(false);
    expect(matches(failed('2026-01-02T00:00:00Z'), { since, until })).toBe(true);
    expect(matches(failed('2026-01-02T23:59:59Z'), { since, until })).toBe(true);
    expect(matches(failed('2026-01-03T00:00:00Z'), { since, until })).toBe(false);
  });
});

describe('isoTime', () => {
  it('reads ISO dates and times', () => {
    expect(isoTime('2026-05-03')).toBe(Date.parse('2026-05-03T00:00:00Z'));
    expect(isoTime('2026-05-03T10:00:00Z')).toBe(Date.parse('2026-05-03T10:00:00Z'));
    expect(isoTime('2026-05-03T12:00:00+02:00')).toBe(Date.parse('2026-05-03T10:00:00Z'));
  });

  it('refuses anything else, saying what it expects', () => {
    for (const bad of ['yesterday', '3 May 2026', '2026-13-01', '1700000000000']) {
      expect(() => isoTime(bad), bad).toThrow(/expected an ISO 8601 time/);
    }
  });
});
