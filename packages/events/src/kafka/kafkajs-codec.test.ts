import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// Our kafkajs patch rewrites the encoder's hot paths (one buffer per record, varints written in
// place, slicing-by-8 CRC32C). These tests hold the patched code to the wire format, written out
// here independently of kafkajs, and to kafkajs's own decoder.
const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder');
const Decoder = require('kafkajs/src/protocol/decoder');
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request');
const frameRequest = require('kafkajs/src/protocol/request');
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition');
const { Partitioners } = require('kafkajs') as {
  Partitioners: {
    DefaultPartitioner: () => (args: {
      topic: string;
      partitionMetadata: Array<{ partitionId: number; leader: number }>;
      message: { key?: string | null; partition?: number };
    }) => number;
  };
};

/** Kafka's varint: zigzag, then seven bits a byte, least significant first. */
function varint(value: number | bigint): Buffer {
  let zigzag = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const bytes: number[] = [];
  while (zigzag >= 0x80n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  bytes.push(Number(zigzag));
  return Buffer.from(bytes);
}

const varBytes = (value: Buffer | string | null): Buffer =>
  value === null ? varint(-1) : Buffer.concat([varint(Buffer.byteLength(value)), Buffer.from(value)]);

/** A record as the protocol guide spells it out. */
function referenceRecord(record: {
  timestampDelta: number | bigint;
  offsetDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: [string, Buffer | string][];
}): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(record.timestampDelta),
    varint(record.offsetDelta),
    varBytes(record.key),
    varBytes(record.value),
    varint(record.headers.length),
    ...record.headers.flatMap(([key, value]) => [varBytes(key), varBytes(value)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

const int16 = (value: number): Buffer => {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
};
const int32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

/** CRC32C a byte at a time, the textbook way. */
function referenceCrc32C(buffer: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buffer) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('the patched kafkajs encoder', () => {
  it('computes CRC32C as the standard does, at every length and alignment', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    const bytes = randomBytes(300);
    for (let start = 0; start < 8; start += 1) {
      for (let length = 0; length + start <= 300; length += 1) {
        const slice = bytes.subarray(start, start + length);
        expect(crc32C(slice), `${length} bytes at ${start}`).toBe(referenceCrc32C(slice));
      }
    }
  });

  it.each([0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, 2 ** 20, 2 ** 30, 2 ** 31 - 1, -(2 ** 31)])(
    'writes the varint %d as the protocol does',
    (value) => {
      expect(new Encoder().writeVarInt(value).buffer).toEqual(varint(value));
      expect(Encoder.sizeOfVarInt(value)).toBe(varint(value).length);
      expect(new Decoder(new Encoder().writeVarInt(value).buffer).readVarInt()).toBe(value);
    },
  );

  it.each([0, 5, -5, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45), Number.MAX_SAFE_INTEGER])(
    'writes the varlong %d as the protocol does, in and beyond 32 bits',
    (value) => {
      expect(new Encoder().writeVarLong(value).buffer).toEqual(varint(value));
      expect(Encoder.sizeOfVarLong(value)).toBe(varint(value).length);
    },
  );

  it('grows its buffer before every write: varints and ASCII strings into an encoder of one byte', () => {
    // allocUnsafe: a write past the end, or a buffer not grown first, would put stale memory on the wire.
    const values = [0, 300, -70_000, 2 ** 30, -(2 ** 31)];
    const ints = new Encoder(1);
    for (const value of values) ints.writeVarInt(value);
    expect(ints.buffer).toEqual(Buffer.concat(values.map((value) => varint(value))));
    const strings = ['a', 'bb'.repeat(40), 'c'.repeat(256), 'ü-not-ascii', ''];
    const text = new Encoder(1);
    for (const value of strings) text.writeVarIntString(value).writeVarIntBytes(value);
    expect(text.buffer).toEqual(Buffer.concat(strings.flatMap((value) => [varBytes(value), varBytes(value)])));
    const longs = new Encoder(1);
    for (const value of [2 ** 40, -5, 2 ** 31]) longs.writeVarLong(value);
    expect(longs.buffer).toEqual(Buffer.concat([2 ** 40, -5, 2 ** 31].map((value) => varint(value))));
  });

  it('writes a record with headers byte for byte as the protocol does, and kafkajs decodes it', () => {
    const value = randomBytes(1500);
    const record = {
      timestampDelta: 1234,
      offsetDelta: 77,
      key: 'order-ü-1',
      value,
      headers: [
        ['ce_id', '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f'],
        ['ce_type', 'com.junction.orders.OrderPlaced'],
        ['traceparent', Buffer.from([0, 1, 2, 255])],
        ['ce_ünicode', 'välue ✓'],
        ['repeated', 'first'],
        ['repeated', 'second'],
      ] as [string, Buffer | string][],
    };
    const encoded = encodeRecord({
      timestampDelta: record.timestampDelta,
      offsetDelta: record.offsetDelta,
      key: record.key,
      value,
      headers: {
        ce_id: '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f',
        ce_type: 'com.junction.orders.OrderPlaced',
        traceparent: Buffer.from([0, 1, 2, 255]),
        ce_ünicode: 'välue ✓',
        repeated: ['first', 'second'],
      },
    }).buffer as Buffer;
    expect(encoded).toEqual(referenceRecord(record));

    const decoder = new Decoder(encoded);
    decoder.readVarInt();
    const decoded = decodeRecord(decoder, { firstOffset: '100', firstTimestamp: '1700000000000', magicByte: 2 });
    expect(decoded.offset).toBe('177');
    expect(decoded.timestamp).toBe('1700000001234');
    expect(decoded.key.toString()).toBe('order-ü-1');
    expect(decoded.value).toEqual(value);
    expect(decoded.headers.ce_type.toString()).toBe('com.junction.orders.OrderPlaced');
    expect(decoded.headers.traceparent).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(decoded.headers.ce_ünicode.toString()).toBe('välue ✓');
    expect(decoded.headers.repeated.map(String)).toEqual(['first', 'second']);
  });

  it('writes header strings of every kind byte for byte: short and long, ASCII and not, repeated, Buffers', () => {
    const ascii256 = 'a'.repeat(256);
    const ascii257 = 'b'.repeat(257);
    const lateUnicode = `${'c'.repeat(40)}é`;
    const record = {
      timestampDelta: 0,
      offsetDelta: 1,
      key: 'k',
      value: 'v',
      headers: [
        [ascii256, ascii257],
        ['late', lateUnicode],
        ['ünï', 'ascii value'],
        ['empty', ''],
        ['twice', 'one'],
        ['twice', Buffer.from([0x80, 0xff])],
        ['long-ü', 'é'.repeat(300)],
      ] as [string, Buffer | string][],
    };
    const encoded = encodeRecord({
      timestampDelta: 0,
      offsetDelta: 1,
      key: 'k',
      value: 'v',
      headers: {
        [ascii256]: ascii257,
        late: lateUnicode,
        ünï: 'ascii value',
        empty: '',
        twice: ['one', Buffer.from([0x80, 0xff])],
        'long-ü': 'é'.repeat(300),
      },
    }).buffer as Buffer;
    expect(encoded).toEqual(referenceRecord(record));
  });

  it('refuses a header without a value, as kafkajs always did', () => {
    expect(() => encodeRecord({ key: 'k', value: 'v', headers: { missing: undefined } })).toThrow(TypeError);
    expect(() => encodeRecord({ key: 'k', value: 'v', headers: { missing: null } })).toThrow(TypeError);
  });

  it('writes a record without key or headers, and one whose timestamp delta needs more than 32 bits', () => {
    const bare = { timestampDelta: 0, offsetDelta: 0, key: null, value: 'v', headers: [] };
    expect(encodeRecord({ ...bare, headers: {} }).buffer).toEqual(referenceRecord(bare));
    const far = { timestampDelta: 2 ** 33 + 5, offsetDelta: 3, key: 'k', value: null, headers: [] };
    expect(encodeRecord({ ...far, headers: {} }).buffer).toEqual(referenceRecord(far));
  });

  it('compresses a batch (GZIP) that kafkajs reads back record for record', async () => {
    const records = Array.from({ length: 30 }, (_, i) =>
      encodeRecord({
        offsetDelta: i,
        timestampDelta: i,
        key: `k${i}`,
        value: `value ${i} ${'x'.repeat(i * 10)}`,
        headers: { n: String(i), ü: 'ö' },
      }),
    );
    const batch = await encodeBatch({
      compression: 1,
      records,
      firstTimestamp: 1700000000000,
      maxTimestamp: 1700000000029,
      lastOffsetDelta: 29,
    });
    const decoded = await decodeBatch(new Decoder(batch.buffer));
    expect(decoded.records).toHaveLength(30);
    decoded.records.forEach(
      (record: { key: Buffer; value: Buffer; offset: string; timestamp: string; headers: Record<string, Buffer> }, i: number) => {
        expect(record.key.toString()).toBe(`k${i}`);
        expect(record.value.toString()).toBe(`value ${i} ${'x'.repeat(i * 10)}`);
        expect(record.offset).toBe(String(i));
        expect(record.timestamp).toBe(String(1700000000000 + i));
        expect(String(record.headers.n)).toBe(String(i));
        expect(String(record.headers.ü)).toBe('ö');
      },
    );
  });

  it("gives a produce request batch the lowest and highest of its messages' timestamps, as numbers, and each record its own fields", async () => {
    const request = produceRequest({
      acks: -1,
      timeout: 30_000,
      topicData: [
        {
          topic: 't',
          partitions: [
            {
              partition: 0,
              firstSequence: 0,
              messages: [
                // As strings these sort 1000 < 50 < 999999999999: the batch would start at 1000.
                { key: 'a', value: 'one', timestamp: 1000, headers: { h: 'x' }, partition: 0 },
                { key: 'b', value: 'two', timestamp: 999_999_999_999 },
                { key: 'c', value: 'three', timestamp: '50' },
              ],
            },
          ],
        },
      ],
    });
    const decoder = new Decoder((await request.encode()).buffer);
    decoder.readString();
    decoder.readInt16();
    decoder.readInt32();
    expect(decoder.readInt32()).toBe(1);
    expect(decoder.readString()).toBe('t');
    expect(decoder.readInt32()).toBe(1);
    expect(decoder.readInt32()).toBe(0);
    const batch = await decodeBatch(new Decoder(decoder.readBytes()));
    expect(String(batch.firstTimestamp)).toBe('50');
    expect(String(batch.maxTimestamp)).toBe('999999999999');
    expect(
      batch.records.map((record: { key: Buffer; value: Buffer; timestamp: string; headers: Record<string, Buffer> }) => [
        record.key.toString(),
        record.value.toString(),
        record.timestamp,
        Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, String(value)])),
      ]),
    ).toEqual([
      ['a', 'one', '1000', { h: 'x' }],
      ['b', 'two', '999999999999', {}],
      ['c', 'three', '50', {}],
    ]);
  });

  it('frames a request: its size, then api key, version, correlation id, client id and payload', async () => {
    for (const clientId of ['junction', 'jünction-€', null]) {
      const payload = randomBytes(3000);
      const frame = (
        await frameRequest({
          correlationId: 77,
          clientId,
          request: { apiKey: 0, apiVersion: 7, encode: async () => new Encoder().writeBuffer(payload) },
        })
      ).buffer as Buffer;
      const client =
        clientId === null ? Buffer.from([0xff, 0xff]) : Buffer.concat([int16(Buffer.byteLength(clientId)), Buffer.from(clientId)]);
      const body = Buffer.concat([int16(0), int16(7), int32(77), client, payload]);
      expect(frame).toEqual(Buffer.concat([int32(body.length), body]));
    }
  });

  it('writes a produce request of two topics, transactional, as the protocol does', async () => {
    const message = (i: number) => ({ key: `k${i}`, value: randomBytes(700), timestamp: 1700000000000 + i, headers: { n: String(i) } });
    const request = produceRequest({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'tx-ü',
      topicData: [
        { topic: 'first', partitions: [0, 1].map((partition) => ({ partition, firstSequence: 0, messages: [message(partition)] })) },
        { topic: 'zweite-ü', partitions: [{ partition: 4, firstSequence: 0, messages: [message(9), message(10)] }] },
      ],
    });
    const encoded = (await request.encode()).buffer as Buffer;
    const decoder = new Decoder(encoded);
    expect(decoder.readString()).toBe('tx-ü');
    expect(decoder.readInt16()).toBe(-1);
    expect(decoder.readInt32()).toBe(30_000);
    const seen: [string, number, string[]][] = [];
    const topics = decoder.readInt32();
    for (let t = 0; t < topics; t += 1) {
      const topic = decoder.readString();
      const partitions = decoder.readInt32();
      for (let p = 0; p < partitions; p += 1) {
        const partition = decoder.readInt32();
        const batch = await decodeBatch(new Decoder(decoder.readBytes()));
        seen.push([topic, partition, batch.records.map((record: { key: Buffer }) => record.key.toString())]);
      }
    }
    expect(decoder.canReadBytes(1)).toBe(false);
    expect(seen).toEqual([
      ['first', 0, ['k0']],
      ['first', 1, ['k1']],
      ['zweite-ü', 4, ['k9', 'k10']],
    ]);
  });

  it('frames a batch whose CRC covers its body, and which kafkajs reads back', async () => {
    const records = Array.from({ length: 50 }, (_, i) =>
      encodeRecord({ offsetDelta: i, timestampDelta: i, key: `k${i}`, value: randomBytes(900 + i), headers: { n: String(i) } }),
    );
    const batch = (await encodeBatch({ records, firstTimestamp: 1700000000000, maxTimestamp: 1700000000049, lastOffsetDelta: 49 }))
      .buffer as Buffer;
    // FirstOffset (8), Length (4), PartitionLeaderEpoch (4), Magic (1), CRC (4), then what the CRC covers.
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
    expect(batch.readUInt32BE(17)).toBe(referenceCrc32C(batch.subarray(21)));
    const recordsStart = 21 + 2 + 4 + 8 + 8 + 8 + 2 + 4;
    expect(batch.readInt32BE(recordsStart)).toBe(50);
    expect(batch.subarray(recordsStart + 4)).toEqual(Buffer.concat(records.map((record) => record.buffer)));
  });
});

describe('the patched kafkajs decoder', () => {
  const decode = (bytes: Buffer, context: Record<string, unknown>) => {
    const decoder = new Decoder(bytes);
    decoder.readVarInt();
    return decodeRecord(decoder, { magicByte: 2, ...context });
  };

  it.each([0, 1, -1, 2 ** 27 - 1, -(2 ** 27), 2 ** 27, -(2 ** 27) - 1, 2 ** 31, 2 ** 40 + 3, -(2 ** 50)])(
    'adds a timestamp delta of %d to the batch timestamp exactly',
    (delta) => {
      const bytes = referenceRecord({ timestampDelta: delta, offsetDelta: 0, key: null, value: 'v', headers: [] });
      const decoded = decode(bytes, { firstOffset: '0', firstTimestamp: '1700000000000' });
      expect(decoded.timestamp).toBe(String(1700000000000n + BigInt(delta)));
    },
  );

  it('counts offsets beyond what a double holds exactly with Long', () => {
    const bytes = referenceRecord({ timestampDelta: 0, offsetDelta: 7, key: null, value: 'v', headers: [] });
    expect(decode(bytes, { firstOffset: '41', firstTimestamp: '0' }).offset).toBe('48');
    expect(decode(bytes, { firstOffset: '9007199254740990', firstTimestamp: '0' }).offset).toBe('9007199254740997');
    expect(decode(bytes, { firstOffset: '9223372036854775800', firstTimestamp: '0' }).offset).toBe('9223372036854775807');
  });

  it('subtracts a negative delta from a base beyond exact doubles with Long', () => {
    const bytes = referenceRecord({ timestampDelta: -10, offsetDelta: 0, key: null, value: 'v', headers: [] });
    expect(decode(bytes, { firstOffset: '0', firstTimestamp: '9007199254740993' }).timestamp).toBe('9007199254740983');
  });

  it('takes the batch time for every record of a LOG_APPEND_TIME batch', () => {
    const bytes = referenceRecord({ timestampDelta: 5, offsetDelta: 0, key: null, value: 'v', headers: [] });
    const decoded = decode(bytes, { firstOffset: '0', firstTimestamp: '100', timestampType: 1, maxTimestamp: '1700000000999' });
    expect(decoded.timestamp).toBe('1700000000999');
  });

  it('reads headers named as Object.prototype members as plain headers', () => {
    const bytes = referenceRecord({
      timestampDelta: 0,
      offsetDelta: 0,
      key: null,
      value: 'v',
      headers: [
        ['constructor', 'x'],
        ['toString', 'y'],
        ['hasOwnProperty', 'z'],
      ],
    });
    const { headers } = decode(bytes, { firstOffset: '0', firstTimestamp: '0' });
    expect(String(headers.constructor)).toBe('x');
    expect(String(headers.toString)).toBe('y');
    expect(String(headers.hasOwnProperty)).toBe('z');
  });

  it('reads header names it has seen before by their bytes: names whose hashes collide, long, not ASCII, and past the cache bound', () => {
    // "Aa" and "BB" hash alike (31·65 + 97 = 31·66 + 66); the cache must still tell them apart.
    const names = ['Aa', 'BB', 'x'.repeat(65), 'ünï', ...Array.from({ length: 600 }, (_, i) => `name-${i}`)];
    for (let round = 0; round < 3; round += 1) {
      const headers: [string, string][] = names.map((name, i) => [name, `${round}:${i}`]);
      const decoded = decode(referenceRecord({ timestampDelta: 0, offsetDelta: 0, key: 'k', value: 'v', headers }), {
        firstOffset: '0',
        firstTimestamp: '0',
      }).headers;
      expect(Object.keys(decoded)).toEqual(names);
      expect(names.map((name) => String(decoded[name]))).toEqual(names.map((_, i) => `${round}:${i}`));
    }
  });

  it('reads headers in order, a repeated one as an array, and __proto__ as a plain header', () => {
    const bytes = referenceRecord({
      timestampDelta: 0,
      offsetDelta: 0,
      key: 'k',
      value: 'v',
      headers: [
        ['a', 'one'],
        ['b', 'two'],
        ['a', 'three'],
        ['a', 'four'],
        ['__proto__', 'five'],
        ['ünï', 'six ✓'],
      ],
    });
    const { headers } = decode(bytes, { firstOffset: '0', firstTimestamp: '0' });
    expect(Object.keys(headers)).toEqual(['a', 'b', '__proto__', 'ünï']);
    expect(headers.a.map(String)).toEqual(['one', 'three', 'four']);
    expect(String(headers.b)).toBe('two');
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(String(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value)).toBe('five');
    expect(String(headers.ünï)).toBe('six ✓');
  });

  it('reads varint strings in place, null and empty included', () => {
    const bytes = Buffer.concat([varBytes('héllo'), varBytes(null), varBytes('')]);
    const decoder = new Decoder(bytes);
    expect([decoder.readVarIntString(), decoder.readVarIntString(), decoder.readVarIntString()]).toEqual(['héllo', null, '']);
    expect(decoder.offset).toBe(bytes.length);
  });
});

describe('the patched kafkajs partitioning', () => {
  // Hashes of stock kafkajs 2.2.4 (BigInt arithmetic), the first nine also Java's Utils.murmur2:
  // a key must land on the partition it always did, or a key's events would change partition.
  it.each([
    ['', 275646681],
    ['a', -1563381124],
    ['ab', 316155434],
    ['abc', 479470107],
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['order-ü-1', 204127914],
    ['0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f', -1529423737],
    ['2090', -344807086],
    ['4020', 453525963],
    ['8040', 631061440],
    ['40201008', 637385488],
    [
      '79bcde6f379b4d2693c9e472391c0e87c361b0d86c361b8d79bcde6f379b4d2693c9e472391c0e87c361b0d86c361b8d79bcde6f379b4d2693c9e472391c0e',
      660616156,
    ],
    [
      '391c8ec7e3f1f87cbe5f2f974b259249a4d2e9f47abd5e2f391c8ec7e3f1f87cbe5f2f974b259249a4d2e9f47abd5e2f391c8ec7e3f1f87cbe5f2f974b259249a4d2e9f47a',
      1957762266,
    ],
  ])('hashes %j as before', (key, hash) => {
    expect(murmur2(key)).toBe(hash);
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('hashes a keyed message over every partition, leader or not, and spreads keyless ones over those with a leader', () => {
    const partition = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: partitionId === 2 ? -1 : 1 }));
    for (const key of ['', 'a', 'order-ü-1', '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f'])
      expect(partition({ topic: 't', partitionMetadata, message: { key } })).toBe((murmur2(key) & 0x7fffffff) % 4);
    expect(partition({ topic: 't', partitionMetadata, message: { key: 'a', partition: 2 } })).toBe(2);
    const keyless = Array.from({ length: 30 }, () => partition({ topic: 't', partitionMetadata, message: {} }));
    expect(new Set(keyless)).toEqual(new Set([0, 1, 3]));
    const leaderless = partitionMetadata.map((p) => ({ ...p, leader: -1 }));
    expect(partition({ topic: 't', partitionMetadata: leaderless, message: { key: null } })).toBeLessThan(4);
  });

  it('groups messages by partition in order', () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ value: String(i), partition: i % 3 }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages,
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const partition of [0, 1, 2]) {
      expect(grouped[partition]).toEqual(messages.filter((message) => message.partition === partition));
    }
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 })).toEqual({});
  });
});
