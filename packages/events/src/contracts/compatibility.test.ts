import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { AvroSchema } from './avro.ts';
import { checkCompatibility, RESOLUTION_RULES, schemaBreaks } from './compatibility.ts';

const record = (fields: unknown[], extra: Record<string, unknown> = {}): AvroSchema => ({
  type: 'record',
  name: 'Thing',
  namespace: 'com.junction.test',
  fields,
  ...extra,
});
const field = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });
const id = field('id', 'string');

/** Messages of the breaks when `reader` reads `writer`. */
const breaks = (reader: AvroSchema, writer: AvroSchema) => schemaBreaks(reader, writer, { reader: 'v2', writer: 'v1', newer: 'reader' });

describe('schemaBreaks', () => {
  it('finds nothing between identical schemas, or where the reader adds a field with a default', () => {
    expect(breaks(record([id]), record([id]))).toEqual([]);
    expect(breaks(record([id, field('note', ['null', 'string'], { default: null })]), record([id]))).toEqual([]);
  });

  it('names a field added without a default, and the rule', () => {
    expect(breaks(record([id, field('couponCode', 'string')]), record([id]))).toEqual([
      {
        field: 'couponCode',
        rule: RESOLUTION_RULES.fieldDefault,
        message:
          'field couponCode: added without a default, so a v2 reader cannot read v1 events (reader field missing in writer needs a default)',
      },
    ]);
  });

  it('says "removed" when the newer side is the writer', () => {
    const [found] = schemaBreaks(record([id, field('note', 'string')]), record([id]), { reader: 'v1', writer: 'v2', newer: 'writer' });
    expect(found?.message).toBe(
      'field note: removed in v2 but has no default in v1, so a v1 reader cannot read v2 events (reader field missing in writer needs a default)',
    );
  });

  it('allows the promotions of the spec and nothing else', () => {
    const readable = [
      ['int', 'long'],
      ['int', 'float'],
      ['int', 'double'],
      ['long', 'float'],
      ['long', 'double'],
      ['float', 'double'],
      ['string', 'bytes'],
      ['bytes', 'string'],
    ];
    for (const [writer, reader] of readable) expect(breaks(record([field('n', reader)]), record([field('n', writer)]))).toEqual([]);
    for (const [writer, reader] of [
      ['long', 'int'],
      ['double', 'float'],
      ['int', 'string'],
      ['boolean', 'int'],
    ]) {
      const [found] = breaks(record([field('n', reader)]), record([field('n', writer)]));
      expect(found?.message).toContain(`field n: ${writer} cannot be read as ${reader}`);
      expect(found?.rule).toBe(RESOLUTION_RULES.promotion);
    }
  });

  it('follows arrays and nested records down to the field', () => {
    const line = (quantity: string) => ({
      type: 'array',
      items: { type: 'record', name: 'OrderLine', fields: [field('sku', 'string'), field('quantity', quantity)] },
    });
    const [found] = breaks(record([field('lines', line('string'))]), record([field('lines', line('int'))]));
    expect(found?.field).toBe('lines[].quantity');
    expect(found?.message).toMatch(/^field lines\[\]\.quantity: int cannot be read as string/);
  });

  it('follows map values', () => {
    const [found] = breaks(
      record([field('tags', { type: 'map', values: 'int' })]),
      record([field('tags', { type: 'map', values: 'string' })]),
    );
    expect(found?.field).toBe('tags{}');
  });

  it('reports an enum symbol the reader lacks, unless the reader has a default', () => {
    const status = (symbols: string[], extra = {}) => ({ type: 'enum', name: 'Status', symbols, ...extra });
    const [found] = breaks(record([field('s', status(['A', 'B']))]), record([field('s', status(['A', 'B', 'C']))]));
    expect(found?.message).toContain('field s: enum com.junction.test.Status lacks symbol C and has no default');
    expect(found?.rule).toBe(RESOLUTION_RULES.enumSymbol);
    expect(breaks(record([field('s', status(['A', 'B'], { default: 'A' }))]), record([field('s', status(['A', 'B', 'C']))]))).toEqual([]);
  });

  it('reports a union branch the reader lacks', () => {
    const [found] = breaks(record([field('v', ['null', 'string'])]), record([field('v', ['null', 'string', 'boolean'])]));
    expect(found?.message).toContain("field v: the writer's boolean matches no branch of the reader's union [null, string]");
    expect(found?.rule).toBe(RESOLUTION_RULES.unionBranch);
    // A plain writer type read into a union that has it, and a union read as its only non-null type, both fail or pass by branch.
    expect(breaks(record([field('v', ['null', 'string'])]), record([field('v', 'string')]))).toEqual([]);
    expect(breaks(record([field('v', 'string')]), record([field('v', ['null', 'string'])]))[0]?.message).toContain(
      'field v: null cannot be read as string',
    );
  });

  it('reports record name mismatches and fixed sizes', () => {
    const nested = (name: string) => ({ type: 'record', name, fields: [field('x', 'int')] });
    expect(breaks(record([field('a', nested('Address'))]), record([field('a', nested('Place'))]))[0]?.message).toContain(
      'field a: record com.junction.test.Place cannot be read as record com.junction.test.Address',
    );
    const fixed = (size: number) => ({ type: 'fixed', name: 'Hash', size });
    const [found] = breaks(record([field('h', fixed(16))]), record([field('h', fixed(32))]));
    expect(found?.rule).toBe(RESOLUTION_RULES.fixedSize);
    expect(found?.message).toContain('size 32 in the writer and 16 in the reader');
  });

  it('treats logical types as Junction reads them', () => {
    const decimal = (precision: number, scale: number) => ({ type: 'bytes', logicalType: 'decimal', precision, scale });
    expect(breaks(record([field('m', decimal(14, 2))]), record([field('m', decimal(12, 2))]))).toEqual([]);
    const [found] = breaks(record([field('m', decimal(12, 3))]), record([field('m', decimal(12, 2))]));
    expect(found?.message).toContain('field m: decimal(12,2) cannot be read as decimal(12,3)');
    expect(found?.rule).toBe(RESOLUTION_RULES.decimal);
    const millis = { type: 'long', logicalType: 'timestamp-millis' };
    expect(breaks(record([field('t', millis)]), record([field('t', 'long')]))).toEqual([]);
    expect(breaks(record([field('t', millis)]), record([field('t', 'string')]))[0]?.message).toContain(
      'field t: string cannot be read as timestamp-millis',
    );
  });
});

describe('checkCompatibility', () => {
  const v1 = { version: 1, schema: record([id]) };
  const v2 = { version: 2, schema: record([id, field('b', 'string', { default: '' })]) };
  const v3 = { version: 3, schema: record([id, field('b', 'string')]) };

  it('checks only the previous version unless transitive', () => {
    expect(checkCompatibility([v1, v2, v3], 'BACKWARD')).toEqual([]);
    expect(checkCompatibility([v1, v2, v3], 'BACKWARD_TRANSITIVE', { subject: 's' })).toEqual([
      {
        subject: 's',
        from: 1,
        to: 3,
        field: 'b',
        rule: RESOLUTION_RULES.fieldDefault,
        message: 'field b: added without a default, so a v3 reader cannot read v1 events (reader field missing in writer needs a default)',
      },
    ]);
  });

  it('FORWARD has old readers read new events; FULL checks both ways; NONE nothing', () => {
    const removed = { version: 2, schema: record([]) };
    const required = { version: 1, schema: record([id]) };
    expect(checkCompatibility([required, removed], 'BACKWARD')).toEqual([]);
    expect(checkCompatibility([required, removed], 'FORWARD').map((p) => [p.from, p.to, p.field])).toEqual([[2, 1, 'id']]);
    const added = { version: 2, schema: record([id, field('n', 'int')]) };
    expect(checkCompatibility([v1, added], 'FORWARD')).toEqual([]);
    expect(checkCompatibility([v1, added], 'FULL').map((p) => [p.from, p.to, p.field])).toEqual([[1, 2, 'n']]);
    expect(checkCompatibility([required, removed], 'FULL_TRANSITIVE').map((p) => [p.from, p.to])).toEqual([[2, 1]]);
    expect(checkCompatibility([v1, added, removed], 'NONE')).toEqual([]);
  });

  it("passes the repository's OrderPlaced v1 → v2 under FULL_TRANSITIVE", async () => {
    const read = async (n: number) =>
      JSON.parse(await readFile(new URL(`../../../../schemas/orders/OrderPlaced/v${n}.avsc`, import.meta.url), 'utf8')) as AvroSchema;
    const versions = [
      { version: 1, schema: await read(1) },
      { version: 2, schema: await read(2) },
    ];
    expect(checkCompatibility(versions, 'FULL_TRANSITIVE')).toEqual([]);
    const withoutDefault = structuredClone(versions[1]?.schema) as { fields: Array<Record<string, unknown>> };
    for (const f of withoutDefault.fields) if (f.name === 'couponCode') delete f.default;
    const [found] = checkCompatibility([versions[0] as never, { version: 2, schema: withoutDefault }], 'FULL_TRANSITIVE');
    expect(found?.message).toBe(
      'field couponCode: added without a default, so a v2 reader cannot read v1 events (reader field missing in writer needs a default)',
    );
  });
});
