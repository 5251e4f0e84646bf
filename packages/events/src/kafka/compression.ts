import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip, unzip, zstdCompress, zstdDecompress } from 'node:zlib';
import { JunctionError } from '@junction/observability';
import type { CompressionTypes as Types } from 'kafkajs';

/**
 * Kafka's record batch compressions, so that a topic written by any producer can be read: Java
 * services commonly write zstd, lz4 or snappy, which kafkajs reads only with a codec registered
 * (without one, a consumer meeting such a batch stops with "not implemented"). gzip and zstd come
 * from Node's zlib, lz4 (the frame format Kafka writes) and snappy (raw, or in the xerial framing
 * of Java's snappy-java) from pure-JavaScript libraries. Junction's publisher writes gzip or zstd
 * (`PublisherOptions.compression`).
 *
 * A batch never inflates past {@link MAX_DECOMPRESSED_BYTES}: past it decoding fails, naming the
 * limit, rather than allocating what a hostile or broken batch claims.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** The compressions Junction's publisher writes. */
export const PUBLISH_COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type PublishCompression = (typeof PUBLISH_COMPRESSIONS)[number];

/** kafkajs's code of a compression the publisher writes. */
export function compressionType(compression: PublishCompression): Types {
  return { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, zstd: CompressionTypes.ZSTD }[compression];
}

const require = createRequire(import.meta.url);
// Through require: Node finds no named export for these in kafkajs's CommonJS (the same module
// object the port's `import` gets, so the codecs registered here are the clients').
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as typeof import('kafkajs');
const lz4 = require('lz4js') as {
  decompressBound(src: Uint8Array): number;
  decompress(src: Uint8Array, maxSize: number): Uint8Array;
  compress(src: Uint8Array): Uint8Array;
};
const snappy = require('snappyjs') as {
  uncompress(src: Uint8Array, maxLength?: number): Uint8Array;
  compress(src: Uint8Array): Uint8Array;
};

const gzipAsync = promisify(gzip);
const unzipAsync = promisify(unzip);
const zstdCompressAsync = promisify(zstdCompress);
const zstdDecompressAsync = promisify(zstdDecompress);

/** The bytes of a compressed batch as kafkajs hands them to a codec (an Encoder) or gets them back. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const tooLarge = (codec: string, claimed?: number): JunctionError =>
  new JunctionError(
    'event.undecodable',
    `a ${codec} record batch inflates past ${MAX_DECOMPRESSED_BYTES} bytes (MAX_DECOMPRESSED_BYTES)${claimed === undefined ? '' : `, up to ${claimed} by its frame`}: not read`,
    { context: { codec, maxBytes: MAX_DECOMPRESSED_BYTES, ...(claimed === undefined ? {} : { claimed }) } },
  );

/** zlib's error when the output passes `maxOutputLength`. */
const isOverLimit = (error: unknown): boolean => (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';

const zlibCodec = (
  name: string,
  compress: (input: Buffer) => Promise<Buffer>,
  decompress: (input: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>,
): Codec => ({
  compress: (encoder) => compress(encoder.buffer),
  decompress: async (buffer) => {
    try {
      return await decompress(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch (error) {
      if (isOverLimit(error)) throw tooLarge(name);
      throw error;
    }
  },
});

/** The header snappy-java's SnappyOutputStream (xerial) puts before its blocks: magic, version, compatible version. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** Snappy as Kafka's producers write it: one raw block (librdkafka, kafkajs-snappy) or xerial framing (Java). */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return snappyBlock(buffer, MAX_DECOMPRESSED_BYTES);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new JunctionError('event.undecodable', 'a snappy (xerial) record batch ends inside a block length');
    const length = buffer.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > buffer.length) {
      throw new JunctionError('event.undecodable', `a snappy (xerial) block of ${length} bytes runs past its batch`);
    }
    const block = snappyBlock(buffer.subarray(at, at + length), MAX_DECOMPRESSED_BYTES - total);
    total += block.length;
    blocks.push(block);
    at += length;
  }
  return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, total);
}

function snappyBlock(block: Buffer, room: number): Buffer {
  try {
    return asBuffer(snappy.uncompress(block, room));
  } catch (error) {
    // snappyjs checks the length a block claims against `room` before allocating, and says so only in its message.
    if (/too big/.test((error as Error).message)) throw tooLarge('snappy');
    throw new JunctionError('event.undecodable', `a snappy record batch is not valid snappy: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** LZ4 in the frame format Kafka writes (KafkaLZ4BlockOutputStream, and librdkafka). */
export function lz4Decompress(buffer: Buffer): Buffer {
  let bound: number;
  try {
    bound = lz4.decompressBound(buffer);
  } catch (error) {
    throw new JunctionError('event.undecodable', `an lz4 record batch is not an LZ4 frame: ${(error as Error).message}`, { cause: error });
  }
  if (bound > MAX_DECOMPRESSED_BYTES) throw tooLarge('lz4', bound);
  return asBuffer(lz4.decompress(buffer, bound));
}

const CODECS: Record<number, Codec> = {
  [CompressionTypes.GZIP]: zlibCodec(
    'gzip',
    (input) => gzipAsync(input),
    (input, options) => unzipAsync(input, options),
  ),
  [CompressionTypes.ZSTD]: zlibCodec(
    'zstd',
    (input) => zstdCompressAsync(input),
    (input, options) => zstdDecompressAsync(input, options),
  ),
  [CompressionTypes.LZ4]: {
    compress: async (encoder) => asBuffer(lz4.compress(encoder.buffer)),
    decompress: async (buffer) => lz4Decompress(buffer),
  },
  [CompressionTypes.Snappy]: {
    compress: async (encoder) => asBuffer(snappy.compress(encoder.buffer)),
    decompress: async (buffer) => snappyDecompress(buffer),
  },
};

/** Registers every codec with kafkajs, once per process (its registry is shared by all its clients). */
export function registerCompressionCodecs(): void {
  for (const [type, codec] of Object.entries(CODECS)) {
    (CompressionCodecs as Record<string, () => Codec>)[type] = () => codec;
  }
}
