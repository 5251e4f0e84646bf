import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../contracts/load.ts';
import { sampleEvent } from '../testing/samples.ts';
import { childTraceparent, eventBytes, prepareEvent } from './prepare.ts';

const SCHEMAS = fileURLToPath(new URL('../../../../schemas', import.meta.url));
const ORDER = 'com.junction.orders.OrderCancelled';
const KEY = '0b9e6f1c-3f2a-4d6e-9c1a-7e5b2d4f8a10';

describe('eventBytes', () => {
  it('counts the framed body, the key and every header name and value in UTF-8 bytes, beside the record overhead', async () => {
    const catalog = await loadCatalog(SCHEMAS);
    const plain = prepareEvent(catalog, 'orders', { type: ORDER, data: sampleEvent(ORDER, KEY) });
    const headerBytes = (headers: Record<string, string>) =>
      Object.entries(headers).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value) + 2, 0);
    expect(eventBytes(plain)).toBe(plain.body.length + 5 + Buffer.byteLength(KEY) + 64 + headerBytes(plain.headers));
    // A header beyond ASCII counts its bytes, not its characters.
    const wide = prepareEvent(catalog, 'orders', {
      type: ORDER,
      data: sampleEvent(ORDER, KEY),
      options: { headers: { 'x-note': 'Grüße 🚚' } },
    });
    expect(eventBytes(wide) - eventBytes(plain)).toBe(
      Buffer.byteLength('x-note') + Buffer.byteLength('Grüße 🚚') + 2 + (wide.body.length - plain.body.length),
    );
    expect(Buffer.byteLength('Grüße 🚚')).toBeGreaterThan('Grüße 🚚'.length);
  });
});

describe('childTraceparent', () => {
  const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
  it('continues a valid parent: its trace and sampling, a new span', () => {
    const parent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;
    const [, trace, span, flags] = TRACEPARENT.exec(childTraceparent(parent)) ?? [];
    expect(trace).toBe('a'.repeat(32));
    expect(span).not.toBe('b'.repeat(16));
    expect(flags).toBe('00');
  });
  it('starts a new sampled trace without a parent, or with one that is not valid, each with ids of its own', () => {
    const made = [undefined, 'not-a-traceparent', `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`].map(childTraceparent);
    for (const traceparent of made) expect(traceparent).toMatch(TRACEPARENT);
    expect(made.every((traceparent) => traceparent.endsWith('-01'))).toBe(true);
    expect(new Set(made.map((traceparent) => traceparent.slice(3, 35))).size).toBe(3);
    expect(new Set(made.map((traceparent) => traceparent.slice(36, 52))).size).toBe(3);
  });
});
