import { describe, expect, it } from 'vitest';
import { catalog } from '../../../../schemas/generated/events.ts';
import { sampleEvent } from '../testing/samples.ts';
import { avroType, validate } from './avro.ts';
import { eventContract, eventVersion } from './catalog.ts';

const money = { type: 'bytes', logicalType: 'decimal', precision: 6, scale: 2 };
const schema = {
  type: 'record',
  name: 'Sample',
  namespace: 'com.junction.test',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'amount', type: money },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'qty', type: 'int' }] } } },
  ],
};
const valid = {
  id: '0190a2b4-7c3e-7d5f-8a9b-0c1d2e3f4a5b',
  at: new Date('2026-11-24T10:00:00.123Z'),
  amount: '1234.50',
  note: null,
  lines: [{ qty: 2 }],
};

describe('avroType', () => {
  it('round-trips timestamps as Dates and money as exact decimal strings', () => {
    const type = avroType(schema);
    const back = type.fromBuffer(type.toBuffer(valid)) as typeof valid;
    expect(back.at).toEqual(valid.at);
    expect(back.amount).toBe('1234.50');
  });

  it.each([
    ['0', '0.00'],
    ['-0.01', '-0.01'],
    ['9999.99', '9999.99'],
    ['-9999.99', '-9999.99'],
    ['1.5', '1.50'],
    ['-128', '-128.00'],
  ])('encodes the decimal %s and reads back %s', (written, read) => {
    const type = avroType(schema);
    expect((type.fromBuffer(type.toBuffer({ ...valid, amount: written })) as typeof valid).amount).toBe(read);
  });

  it('accepts an ISO-8601 time with a zone for a timestamp', () => {
    const type = avroType(schema);
    const back = type.fromBuffer(type.toBuffer({ ...valid, at: '2026-11-24T10:00:00Z' })) as typeof valid;
    expect(back.at.toISOString()).toBe('2026-11-24T10:00:00.000Z');
  });

  it('caches one type per schema object', () => {
    expect(avroType(schema)).toBe(avroType(schema));
  });
});

describe('validate', () => {
  it('finds nothing wrong with a valid value', () => {
    expect(validate(schema, valid)).toEqual([]);
  });

  it('lists every bad field with its path and why', () => {
    const problems = validate(schema, {
      ...valid,
      id: 'not-a-uuid',
      amount: 12.5,
      lines: [{ qty: 1 }, { qty: 'two' }],
      colour: 'red',
      at: undefined,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'id', reason: 'expected a UUID string, got "not-a-uuid"' },
        { path: 'at', reason: 'required but missing' },
        { path: 'amount', reason: expect.stringContaining('decimal string') },
        { path: 'lines.1.qty', reason: 'expected a 32-bit integer, got "two"' },
        { path: 'colour', reason: 'not a field of the schema' },
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it.each(['12.345', '10000.00', '1e3', ''])('rejects the decimal %j (too precise, too large or not a number)', (amount) => {
    expect(validate(schema, { ...valid, amount }).map((p) => p.path)).toEqual(['amount']);
  });

  it('never quotes a value where personal (junction.pii) fields are, only its kind', () => {
    const orderPlaced = eventVersion(eventContract(catalog, 'com.junction.orders.OrderPlaced')).schema;
    const event = sampleEvent('com.junction.orders.OrderPlaced');
    const secret = 'Jane Q. Private, 1 Hidden Lane';
    const problems = validate(orderPlaced, {
      ...event,
      customerEmail: { address: secret },
      shippingAddress: secret,
      customerId: 'not-a-uuid',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'customerEmail', reason: 'expected a string, got an object (personal data, not shown)' },
        { path: 'shippingAddress', reason: 'expected an object, got a string (personal data, not shown)' },
        // Others still show what came.
        { path: 'customerId', reason: 'expected a UUID string, got "not-a-uuid"' },
      ]),
    );
    // A wrong member inside the personal record, and the whole event as something else.
    const inside = validate(orderPlaced, { ...event, shippingAddress: { ...(event.shippingAddress as object), postalCode: 4711 } });
    expect(inside).toEqual([{ path: 'shippingAddress.postalCode', reason: 'expected a string, got a number (personal data, not shown)' }]);
    expect(validate(orderPlaced, secret)).toEqual([
      { path: '(event)', reason: 'expected an object, got a string (personal data, not shown)' },
    ]);
    const text = JSON.stringify([problems, inside]);
    expect(text).not.toContain('Jane');
    expect(text).not.toContain('4711');
  });

  it('rejects a time without a zone: it would mean a different instant on every machine', () => {
    expect(validate(schema, { ...valid, at: '2026-11-24T10:00:00' }).map((p) => p.path)).toEqual(['at']);
  });
});

describe('schema resolution', () => {
  it('reads values through a resolver between two copies of the same schema', () => {
    const writer = avroType(structuredClone(schema));
    const reader = avroType(schema);
    const back = reader.fromBuffer(writer.toBuffer(valid), reader.createResolver(writer)) as typeof valid;
    expect(back).toEqual(valid);
  });

  it('reads a plain long written before the field became a timestamp', () => {
    const before = avroType({ type: 'record', name: 'T', fields: [{ name: 'at', type: 'long' }] });
    const after = avroType({
      type: 'record',
      name: 'T',
      fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }],
    });
    expect(after.fromBuffer(before.toBuffer({ at: 1_700_000_000_000 }), after.createResolver(before))).toEqual({
      at: new Date(1_700_000_000_000),
    });
  });
});
