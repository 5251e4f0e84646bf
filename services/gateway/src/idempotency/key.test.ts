import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint, scopedIdempotencyKey } from './key.ts';

describe('scopedIdempotencyKey', () => {
  it('keeps clients apart even when a client id holds a colon', () => {
    expect(scopedIdempotencyKey('a:b', 'c')).not.toBe(scopedIdempotencyKey('a', 'b:c'));
    expect(scopedIdempotencyKey('a', 'k')).toBe(scopedIdempotencyKey('a', 'k'));
  });
});

describe('requestFingerprint', () => {
  it('is the same for the same JSON with keys in another order, at every depth', () => {
    const a = { orderId: '1', lines: [{ sku: 'x', quantity: 1 }], meta: { b: 2, a: 1 } };
    const b = { meta: { a: 1, b: 2 }, lines: [{ quantity: 1, sku: 'x' }], orderId: '1' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(requestFingerprint('T', 1, a)).toBe(requestFingerprint('T', 1, b));
  });

  it('differs when a value, an array order, the type or the version differs', () => {
    const base = requestFingerprint('T', 1, { a: [1, 2] });
    expect(requestFingerprint('T', 1, { a: [2, 1] })).not.toBe(base);
    expect(requestFingerprint('T', 1, { a: [1, 3] })).not.toBe(base);
    expect(requestFingerprint('U', 1, { a: [1, 2] })).not.toBe(base);
    expect(requestFingerprint('T', 2, { a: [1, 2] })).not.toBe(base);
  });

  it('writes what JSON.stringify writes, only sorted', () => {
    const value = { z: 'é"\n', a: null, n: 1.5, t: true, e: [], o: {} };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJson(value)).toBe('{"a":null,"e":[],"n":1.5,"o":{},"t":true,"z":"é\\"\\n"}');
  });
});
