import { describe, expect, it } from 'vitest';
import type { AvroCodec } from '../codec.ts';
import { frame } from '../codec.ts';
import { avroType } from '../contracts/avro.ts';
import type { Catalog } from '../contracts/catalog.ts';
import { decode } from './decode.ts';
import type { EventContext } from './types.ts';

const writer = {
  type: 'record',
  name: 'Parcel',
  namespace: 'com.junction.test',
  fields: [{ name: 'parcelId', type: 'string' }],
};
const reader = { ...writer, fields: [...writer.fields, { name: 'carrier', type: ['null', 'string'], default: null }] };
const catalog: Catalog = {
  topics: [],
  events: [
    {
      type: 'com.junction.test.Parcel',
      name: 'Parcel',
      domain: 'test',
      topic: 'test.parcel',
      keyField: 'parcelId',
      subject: 'test.parcel-com.junction.test.Parcel',
      versions: [{ version: 2, ceType: 'com.junction.test.Parcel.v2', file: 'x', schema: reader }],
    },
  ],
};

/** The codec's part of a registry that holds schema 7 = `writer`; registry lookups are the int tests' job. */
const codec = {
  schemaNow: (id: number) => (id === 7 ? writer : undefined),
  schema: async (id: number) => {
    if (id !== 7) throw Object.assign(new Error('unknown'), { code: 'schema.unknown' });
    return writer;
  },
  decodeNow: (buffer: Buffer, readerSchema?: object) => ({
    schemaId: 7,
    value: avroType(readerSchema as never).fromBuffer(buffer.subarray(5), avroType(readerSchema as never).createResolver(avroType(writer))),
  }),
} as unknown as AvroCodec;

function context(value: Buffer | null, headers: Record<string, string> = {}): EventContext {
  return {
    group: 'g',
    record: { topic: 'test.parcel', partition: 0, offset: '3', key: 'p1', value, headers, timestamp: 0 },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

describe('decode', () => {
  const handled = new Set(['com.junction.test.Parcel']);

  it('resolves the writer schema to the reader schema and hands on the event', async () => {
    const ctx = context(frame(7, avroType(writer).toBuffer({ parcelId: 'p1' })), { ce_id: 'e1', ce_type: 'com.junction.test.Parcel.v1' });
    let seen: unknown;
    await decode({ codec, catalog, handled })(async (c) => {
      seen = c.event;
    })(ctx);
    expect(seen).toEqual({ id: 'e1', type: 'com.junction.test.Parcel', version: 1, schemaId: 7, data: { parcelId: 'p1', carrier: null } });
  });

  it('fails for good on bytes that are not in Confluent framing, and on an empty record', async () => {
    const next = async () => {};
    await expect(decode({ codec, catalog, handled })(next)(context(Buffer.from('{"json":1}')))).rejects.toMatchObject({
      code: 'event.undecodable',
      retriable: false,
    });
    await expect(decode({ codec, catalog, handled })(next)(context(null))).rejects.toMatchObject({ code: 'event.undecodable' });
  });

  it('skips a type it has no handler for, without failing', async () => {
    const ctx = context(frame(7, avroType(writer).toBuffer({ parcelId: 'p1' })));
    let called = false;
    await decode({ codec, catalog, handled: new Set() })(async () => {
      called = true;
    })(ctx);
    expect(called).toBe(false);
    expect(ctx.outcome).toBe('skipped');
  });
});
