import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AvroCodec } from '../codec.ts';
import { frame } from '../codec.ts';
import { avroType } from '../contracts/avro.ts';
import type { Catalog } from '../contracts/catalog.ts';
import { encryptEventPii } from '../pii/event.ts';
import { createPiiKeyring } from '../pii/keyring.ts';
import { ceTypeVersion, decode, decodeStages } from './decode.ts';
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

  it('names the record and what is wrong with its bytes', async () => {
    const next = async () => {};
    await expect(decode({ codec, catalog, handled })(next)(context(null))).rejects.toMatchObject({
      message: 'record has no value',
      context: { topic: 'test.parcel', partition: 0, offset: '3' },
    });
    await expect(decode({ codec, catalog, handled })(next)(context(Buffer.from([0, 0, 0, 7])))).rejects.toMatchObject({
      message: 'record is not in Confluent framing (magic byte 0 and a schema id)',
      context: { topic: 'test.parcel', partition: 0, offset: '3', bytes: 4 },
    });
    await expect(decode({ codec, catalog, handled })(next)(context(frame(7, Buffer.from([]))))).rejects.not.toMatchObject({
      message: expect.stringContaining('Confluent framing'),
    });
  });

  it('asks the registry once per schema id, whatever the number of records', async () => {
    let asked = 0;
    const slow = {
      ...codec,
      schemaNow: () => undefined,
      schema: async (id: number) => {
        asked += 1;
        return codec.schema(id);
      },
    } as unknown as AvroCodec;
    const stage = decode({ codec: slow, catalog, handled })(async () => {});
    for (let i = 0; i < 3; i += 1) await stage(context(frame(7, avroType(writer).toBuffer({ parcelId: `p${i}` }))));
    expect(asked).toBe(1);
  });

  it('reads the version from ce_type, and leaves it 0 (and the id empty) when the headers do not say', async () => {
    const seen: unknown[] = [];
    const stage = decode({ codec, catalog, handled })(async (c) => void seen.push(c.event?.version));
    const value = () => frame(7, avroType(writer).toBuffer({ parcelId: 'p1' }));
    await stage(context(value(), { ce_type: 'com.junction.test.Parcel.v12' }));
    await stage(context(value(), { ce_type: 'com.junction.test.Parcel.v3-beta' }));
    const bare = context(value());
    let event: unknown;
    await decode({ codec, catalog, handled })(async (c) => {
      event = c.event;
    })(bare);
    expect(seen).toEqual([12, 0]);
    expect(event).toMatchObject({ id: '', version: 0 });
  });

  it('reads a ce_type version only from a final .v and digits after a name', () => {
    const cases: Array<[string | undefined, number]> = [
      ['com.junction.test.Parcel.v1', 1],
      ['com.junction.test.Parcel.v2024', 2024],
      ['a.v1.v7', 7],
      ['a.v1', 1],
      ['a.v9', 9],
      ['a.v90', 90],
      ['a.v', 0],
      ['.v3', 0],
      ['a.v1x', 0],
      ['a.vx1', 0],
      ['a.v/1', 0],
      ['a.v1:', 0],
      ['Parcel', 0],
      ['', 0],
      [undefined, 0],
    ];
    expect(cases.map(([ceType]) => ceTypeVersion(ceType))).toEqual(cases.map(([, version]) => version));
  });

  it('fails for good on a handled type the catalog has no reader schema for, naming it', async () => {
    const other = { type: 'record', name: 'Other', namespace: 'com.junction.test', fields: [{ name: 'x', type: 'string' }] };
    const withOther = { ...codec, schemaNow: (id: number) => (id === 8 ? other : codec.schemaNow(id)) } as unknown as AvroCodec;
    const ctx = context(frame(8, avroType(other).toBuffer({ x: 'y' })));
    await expect(
      decode({ codec: withOther, catalog, handled: new Set(['com.junction.test.Other']) })(async () => {})(ctx),
    ).rejects.toMatchObject({
      code: 'schema.unknown',
      retriable: false,
      message: 'no reader schema for com.junction.test.Other in the catalog',
      context: { topic: 'test.parcel', offset: '3', type: 'com.junction.test.Other' },
    });
  });

  it('names a writer schema by its full name, whether the name holds the namespace or there is none', async () => {
    const dotted = { type: 'record', name: 'com.junction.test.Parcel', fields: writer.fields };
    const bare = { type: 'record', name: 'Parcel', fields: writer.fields };
    for (const [schema, handles] of [
      [dotted, 'com.junction.test.Parcel'],
      [bare, 'Parcel'],
    ] as const) {
      const named = { ...codec, schemaNow: () => schema } as unknown as AvroCodec;
      const ctx = context(frame(7, avroType(writer).toBuffer({ parcelId: 'p1' })));
      await decode({ codec: named, catalog, handled: new Set(['nothing']) })(async () => {})(ctx);
      expect(ctx.outcome).toBe('skipped');
      const identified = context(frame(7, avroType(writer).toBuffer({ parcelId: 'p1' })));
      let reached = false;
      await decodeStages({ codec: named, catalog, handled: new Set([handles]) }).identify(async () => {
        reached = true;
      })(identified);
      expect(reached).toBe(true);
    }
  });

  it('refuses to decode a record identify did not see', async () => {
    const { decode: decodeOnly } = decodeStages({ codec, catalog, handled });
    await expect(decodeOnly(async () => {})(context(frame(7, avroType(writer).toBuffer({ parcelId: 'p1' }))))).rejects.toMatchObject({
      code: 'internal',
      message: 'decode ran without identify before it',
    });
  });

  describe('personal fields', () => {
    const personal = { ...writer, fields: [...writer.fields, { name: 'email', type: 'string', 'junction.pii': true }] };
    const piiCatalog: Catalog = {
      ...catalog,
      events: [
        {
          ...(catalog.events[0] as Catalog['events'][number]),
          versions: [{ version: 1, ceType: 'com.junction.test.Parcel.v1', file: 'x', schema: personal }],
        },
      ],
    };
    const piiCodec = {
      ...codec,
      schemaNow: () => personal,
      decodeNow: (buffer: Buffer) => ({ schemaId: 7, value: avroType(personal as never).fromBuffer(buffer.subarray(5)) }),
    } as unknown as AvroCodec;
    const ring = createPiiKeyring({ keys: { k1: randomBytes(32).toString('base64') } });
    const sealed = () => {
      const data = encryptEventPii(
        personal as never,
        { type: 'com.junction.test.Parcel', id: 'e9' },
        { parcelId: 'p1', email: 'ada@example.com' },
        ring,
      );
      return context(frame(7, avroType(personal as never).toBuffer(data)), { ce_id: 'e9', ce_type: 'com.junction.test.Parcel.v1' });
    };
    const read = async (pii: Parameters<typeof decode>[0]['pii']) => {
      let data: Record<string, unknown> | undefined;
      await decode({ codec: piiCodec, catalog: piiCatalog, handled, pii })(async (c) => {
        data = c.event?.data as Record<string, unknown>;
      })(sealed());
      return data;
    };

    it('decrypts them with the keyring, and leaves the ciphertext to a subscriber without one', async () => {
      expect(await read(ring)).toEqual({ parcelId: 'p1', email: 'ada@example.com' });
      const kept = await read(false);
      expect(kept?.parcelId).toBe('p1');
      expect(kept?.email).not.toBe('ada@example.com');
      expect(typeof kept?.email).toBe('string');
    });

    it('fails for good on a ciphertext its keyring cannot open, naming the record', async () => {
      const other = createPiiKeyring({ keys: { k2: randomBytes(32).toString('base64') } });
      const error = await read(other).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'event.undecodable',
        retriable: false,
        context: { topic: 'test.parcel', partition: 0, offset: '3' },
      });
    });
  });

  it('waits for the registry when the value cannot be read at once, then hands on the event', async () => {
    const later = {
      ...codec,
      decodeNow: () => undefined,
      decode: async (buffer: Buffer, readerSchema?: object) => codec.decodeNow(buffer, readerSchema as never),
    } as unknown as AvroCodec;
    let seen: unknown;
    await decode({ codec: later, catalog, handled })(async (c) => {
      seen = c.event?.data;
    })(context(frame(7, avroType(writer).toBuffer({ parcelId: 'p4' })), { ce_id: 'e4' }));
    expect(seen).toEqual({ parcelId: 'p4', carrier: null });
  });

  it('fails a value that does not read as a rejection, not a throw, and asks the registry nothing more', async () => {
    let asked = 0;
    const broken = {
      ...codec,
      decodeNow: () => {
        throw new Error('truncated buffer');
      },
      decode: async () => {
        asked += 1;
        return { schemaId: 7, value: { parcelId: 'from the registry' } };
      },
    } as unknown as AvroCodec;
    let handed = false;
    const call = decode({ codec: broken, catalog, handled })(async () => {
      handed = true;
    });
    let result: Promise<void> | undefined;
    expect(() => {
      result = call(context(frame(7, Buffer.from([1, 2, 3]))));
    }).not.toThrow();
    await expect(result).rejects.toThrow('truncated buffer');
    expect([asked, handed]).toEqual([0, false]);
  });
});
