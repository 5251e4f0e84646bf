import { describe, expect, it } from 'vitest';
import { cloudEventHeaders, headersToStrings, randomHexPooled, uuidv7 } from './cloudevents.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has version 7, the RFC variant, and the time in its first 48 bits', () => {
    const now = Date.UTC(2026, 10, 24, 12, 0, 0);
    const id = uuidv7(now);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts in creation order, even many within one millisecond', () => {
    const now = Date.now() + 10_000;
    const ids = Array.from({ length: 3000 }, () => uuidv7(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('randomHexPooled', () => {
  it('gives lowercase hex of the size asked, never the same bytes twice across pool refills', () => {
    const draws = Array.from({ length: 1000 }, (_, i) => randomHexPooled(1 + (i % 24)));
    for (const [i, hex] of draws.entries()) expect(hex).toMatch(new RegExp(`^[0-9a-f]{${2 * (1 + (i % 24))}}$`));
    const long = draws.filter((hex) => hex.length >= 16);
    expect(new Set(long).size).toBe(long.length);
  });
});

describe('cloudEventHeaders', () => {
  it('carries the CloudEvents binary-mode attributes', () => {
    const time = new Date('2026-11-24T10:00:00.000Z');
    const headers = cloudEventHeaders({ type: 'com.junction.orders.OrderPlaced.v1', source: '/junction/orders', subject: 'order-1', time });
    expect(headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'com.junction.orders.OrderPlaced.v1',
      ce_source: '/junction/orders',
      ce_subject: 'order-1',
      ce_time: '2026-11-24T10:00:00.000Z',
      'content-type': 'application/avro',
    });
    expect(headers.ce_id).toMatch(UUID_V7);
  });

  it('gives each event its own time, whether or not it shares the millisecond of the one before', () => {
    const at = (iso: string) => cloudEventHeaders({ type: 't', source: '/s', subject: 'k', time: new Date(iso) }).ce_time;
    expect(at('2026-11-24T10:00:00.001Z')).toBe('2026-11-24T10:00:00.001Z');
    expect(at('2026-11-24T10:00:00.001Z')).toBe('2026-11-24T10:00:00.001Z');
    expect(at('2026-11-24T10:00:00.002Z')).toBe('2026-11-24T10:00:00.002Z');
    expect(at('1999-01-01T00:00:00.000Z')).toBe('1999-01-01T00:00:00.000Z');
    const before = Date.now();
    const now = Date.parse(cloudEventHeaders({ type: 't', source: '/s', subject: 'k' }).ce_time ?? '');
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('headersToStrings', () => {
  it('reads buffers, strings and repeated headers', () => {
    expect(headersToStrings({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('first'), Buffer.from('second')], d: undefined })).toEqual({
      a: 'x',
      b: 'y',
      c: 'first',
    });
  });

  it('reads a header named like an Object member as a header, and nothing inherited', () => {
    const headers = JSON.parse('{"__proto__": "p", "constructor": "c"}') as Record<string, unknown>;
    const inherited = Object.assign(Object.create({ hidden: Buffer.from('no') }) as Record<string, unknown>, { own: Buffer.from('é') });
    const read = headersToStrings(headers);
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.entries(read)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
    expect(headersToStrings(inherited)).toEqual({ own: 'é' });
    expect(headersToStrings(undefined)).toEqual({});
  });
});
