import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lz4Decompress, MAX_DECOMPRESSED_BYTES, registerCompressionCodecs, snappyDecompress } from './compression.ts';

const require = createRequire(import.meta.url);
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as typeof import('kafkajs');
const Encoder = require('kafkajs/src/protocol/encoder');
const Decoder = require('kafkajs/src/protocol/decoder');
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const snappy = require('snappyjs') as { compress(src: Uint8Array): Uint8Array };
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array };

registerCompressionCodecs();

describe('record batch compression', () => {
  it.each([
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ])('writes and reads a %s batch through kafkajs, record for record', async (_name, compression) => {
    const values = Array.from({ length: 200 }, (_, i) => Buffer.concat([Buffer.from(`event ${i} `), randomBytes(i % 7 === 0 ? 3000 : 40)]));
    const records = values.map((value, i) =>
      encodeRecord({
        offsetDelta: i,
        timestampDelta: i,
        key: `k${i % 13}`,
        value,
        headers: { ce_id: `id-${i}`, ce_type: 'com.junction.t.v1' },
      }),
    );
    const batch = await encodeBatch({
      compression,
      records,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_199,
      lastOffsetDelta: 199,
    });
    const decoder = new Decoder(batch.buffer);
    const decoded = await decodeBatch(decoder);
    expect(decoded.records.map((record: { value: Buffer }) => record.value)).toEqual(values);
    expect(decoded.records.map((record: { headers: Record<string, Buffer> }) => String(record.headers.ce_id))).toEqual(
      values.map((_, i) => `id-${i}`),
    );
  });

  it('reads snappy in the xerial framing Java writes (several blocks), and raw snappy', () => {
    const parts = [randomBytes(1000), Buffer.alloc(5000, 'a'), Buffer.from('the last block')];
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const blocks = parts.map((part) => {
      const compressed = Buffer.from(snappy.compress(part));
      const length = Buffer.alloc(4);
      length.writeInt32BE(compressed.length);
      return Buffer.concat([length, compressed]);
    });
    expect(snappyDecompress(Buffer.concat([header, ...blocks]))).toEqual(Buffer.concat(parts));
    expect(snappyDecompress(Buffer.from(snappy.compress(parts[1] as Buffer)))).toEqual(parts[1]);
  });

  it('refuses a snappy (xerial) batch cut off inside a block, saying so', () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const length = Buffer.alloc(4);
    length.writeInt32BE(500);
    expect(() => snappyDecompress(Buffer.concat([header, length, Buffer.alloc(10)]))).toThrow(
      expect.objectContaining({ code: 'event.undecodable', message: expect.stringContaining('runs past its batch') }),
    );
  });

  it(`inflates no batch past ${MAX_DECOMPRESSED_BYTES} bytes, whatever the codec`, async () => {
    const huge = MAX_DECOMPRESSED_BYTES + 1024;
    // zstd and gzip: a small input that inflates past the bound.
    const zeros = Buffer.alloc(huge);
    const zstd = CompressionCodecs[CompressionTypes.ZSTD]();
    await expect(zstd.decompress(zstdCompressSync(zeros))).rejects.toMatchObject({ code: 'event.undecodable' });
    const gzip = CompressionCodecs[CompressionTypes.GZIP]();
    await expect(gzip.decompress(await gzip.compress(new Encoder().writeBuffer(zeros)))).rejects.toMatchObject({
      code: 'event.undecodable',
      message: expect.stringContaining('MAX_DECOMPRESSED_BYTES'),
    });
    // snappy: a block that claims more than the bound is refused before anything is allocated.
    const claim = Buffer.from([0x80, 0x80, 0x80, 0x40, 0x00]); // varint 2^27, then nothing
    expect(() => snappyDecompress(claim)).toThrow(expect.objectContaining({ code: 'event.undecodable' }));
    // lz4: a frame whose blocks add up past the bound.
    expect(() => lz4Decompress(Buffer.from(lz4.compress(zeros)))).toThrow(expect.objectContaining({ code: 'event.undecodable' }));
  });

  it('says what is wrong with bytes that are not the codec they claim', () => {
    expect(() => lz4Decompress(Buffer.from('not an lz4 frame'))).toThrow(expect.objectContaining({ code: 'event.undecodable' }));
    expect(() => snappyDecompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'event.undecodable' }),
    );
  });
});
