import { type AvroCodec, DLQ_HEADERS } from '@junction/events';
import { describe, expect, it } from 'vitest';
import type { DlqRecord } from './record.ts';
import { decodeRecord, renderJson, renderText } from './show.ts';

const record = (value: Buffer | null): DlqRecord => {
  const headers = {
    ce_id: 'id-1',
    [DLQ_HEADERS.originalTopic]: 'orders.order',
    [DLQ_HEADERS.originalPartition]: '2',
    [DLQ_HEADERS.originalOffset]: '17',
    [DLQ_HEADERS.group]: 'billing',
    [DLQ_HEADERS.errorCode]: 'event.invalid',
    [DLQ_HEADERS.errorMessage]: 'total: not a decimal',
    [DLQ_HEADERS.errorStack]: 'JunctionError: total: not a decimal\n    at handle (orders.ts:3:1)',
    [DLQ_HEADERS.attempts]: '1',
    [DLQ_HEADERS.lastFailure]: '2026-01-02T03:04:05.678Z',
  };
  return {
    topic: 'billing.orders.order.dlq',
    partition: 0,
    offset: '5',
    timestamp: 0,
    key: Buffer.from('o-1'),
    value,
    rawHeaders: headers,
    headers,
  };
};

/** A codec whose decode answers as told. */
const codec = (decode: () => Promise<unknown>) => ({ decode }) as unknown as AvroCodec;
const failing = (code: string) => codec(() => Promise.reject(Object.assign(new Error(`${code} happened`), { code })));

describe('decodeRecord', () => {
  it('shows bad bytes and unknown schema ids as undecodable, with the reason', async () => {
    for (const code of ['event.undecodable', 'schema.unknown']) {
      expect((await decodeRecord(failing(code), record(Buffer.from('xx')))).undecodable).toEqual({ code, reason: `${code} happened` });
    }
  });

  it('lets a registry that does not answer fail the command', async () => {
    await expect(decodeRecord(failing('registry.unavailable'), record(Buffer.from('xx')))).rejects.toThrow('registry.unavailable happened');
  });

  it('does not decode a tombstone', async () => {
    expect(await decodeRecord(failing('event.undecodable'), record(null))).toEqual({ record: record(null) });
  });
});

describe('render', () => {
  it('text: failure, origin, stack frames, headers and the value', async () => {
    const shown = await decodeRecord(
      codec(async () => ({ schemaId: 7, value: { total: '1.50' } })),
      record(Buffer.from('x')),
    );
    const text = renderText(shown);
    expect(text).toContain('billing.orders.order.dlq/0@5  key o-1');
    expect(text).toContain('  error       event.invalid: total: not a decimal');
    expect(text).toContain('  stack       at handle (orders.ts:3:1)');
    expect(text).toContain('  failed      1 attempt(s), first ?, last 2026-01-02T03:04:05Z');
    expect(text).toContain('  original    orders.order/2@17 at ?, group billing');
    expect(text).toContain('  headers     ce_id: id-1');
    expect(text).toContain('  value       schema 7: {\n                "total": "1.50"\n              }');
  });

  it('json: one line, bytes as base64, the undecodable value in hex and base64', async () => {
    const decoded = await decodeRecord(
      codec(async () => ({ schemaId: 7, value: { raw: Buffer.from([1, 2]) } })),
      record(Buffer.from('x')),
    );
    const line = renderJson(decoded);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ key: 'o-1', schemaId: 7, value: { raw: 'AQI=' }, headers: { ce_id: 'id-1' } });
    const bad = JSON.parse(renderJson(await decodeRecord(failing('event.undecodable'), record(Buffer.from('hi')))));
    expect(bad.undecodable).toEqual({ code: 'event.undecodable', reason: 'event.undecodable happened', hex: '6869', base64: 'aGk=' });
    expect(bad.value).toBeUndefined();
    expect(Object.keys(bad.headers)).toEqual(['ce_id']);
  });
});
