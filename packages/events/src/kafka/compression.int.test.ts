import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaTools, stackFromEnv } from '@junction/stack';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAvroCodec } from '../codec.ts';
import { eventContract, eventVersion } from '../contracts/catalog.ts';
import { createPublisher } from '../publisher/publisher.ts';
import { countRecords, type PrivateContracts, privateContracts, readRecords } from '../testing/contracts.ts';
import { sampleEvent } from '../testing/samples.ts';

// Batches compressed by Kafka's own Java client, read through the port, and batches Junction's
// publisher compresses, read by the Java client: against the test stack's broker.

const { brokers, schemaRegistryUrl } = stackFromEnv();
const CANCELLED = 'com.junction.orders.OrderCancelled';
const { CompressionCodecs, CompressionTypes } = createRequire(import.meta.url)('kafkajs') as typeof import('kafkajs');
const TYPES = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };

/** The codec kafkajs uses for `compression` (the port registered it), watched for calls. */
const watched = (compression: keyof typeof TYPES) => {
  const codecs = CompressionCodecs as unknown as Record<number, () => { compress: () => unknown; decompress: () => unknown }>;
  const codec = (codecs[TYPES[compression]] as () => { compress: () => unknown; decompress: () => unknown })();
  return { compress: vi.spyOn(codec, 'compress'), decompress: vi.spyOn(codec, 'decompress') };
};

/** Runs one of Kafka's Java tools to its end; its output, or an error with its last lines. */
async function javaTool(className: string, args: string[]): Promise<string> {
  const tools = await kafkaTools();
  const result = await tools.run(`org.apache.kafka.tools.${className}`, args, 120_000);
  const output = `${result.stdout}${result.stderr}`;
  if (result.code !== 0) throw new Error(`${className} exited with ${result.code}: ${output.trim().split('\n').slice(-5).join(' | ')}`);
  return output;
}

let contracts: PrivateContracts;
let dir: string;

beforeAll(async () => {
  contracts = await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 });
  dir = await mkdtemp(join(tmpdir(), 'junction-compression-'));
});

afterAll(async () => {
  await contracts?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('compressed record batches', () => {
  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    "reads every record of batches Kafka's Java producer compressed with %s",
    { timeout: 120_000 },
    async (compression) => {
      const topic = `compressed-${compression}-${randomBytes(4).toString('hex')}`;
      await contracts.admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      try {
        // ProducerPerformance sends lines of this file as values, in batches lingering 50 ms.
        const payloads = Array.from({ length: 50 }, (_, i) => `payload ${i} ${randomBytes(60).toString('base64')} ${'z'.repeat(i * 10)}`);
        const file = join(dir, `${compression}.txt`);
        await writeFile(file, payloads.join('\n'));
        await javaTool('ProducerPerformance', [
          ...['--topic', topic, '--num-records', '600', '--payload-file', file, '--throughput', '-1'],
          ...['--producer-props', `bootstrap.servers=${brokers.join(',')}`, 'acks=all', `compression.type=${compression}`, 'linger.ms=50'],
        ]);
        const calls = watched(compression);
        const records = await readRecords(contracts.kafka, [topic], 600, 30_000);
        expect(records).toHaveLength(600);
        // The batches were compressed, and our codec read them.
        expect(calls.decompress).toHaveBeenCalled();
        const known = new Set(payloads);
        expect(records.filter((record) => !known.has(record.value.toString()))).toEqual([]);
      } finally {
        vi.restoreAllMocks();
        await contracts.admin.deleteTopics({ topics: [topic] }).catch(() => {});
      }
    },
  );

  it.each(['gzip', 'zstd'] as const)(
    "publishes %s batches that Kafka's Java consumer and Junction read back",
    { timeout: 120_000 },
    async (compression) => {
      const publisher = createPublisher({
        service: 'orders',
        kafka: { brokers },
        registry: { url: schemaRegistryUrl },
        catalog: contracts.catalog,
        compression,
      });
      const topic = eventContract(contracts.catalog, CANCELLED).topic;
      try {
        const before = await countRecords(contracts.admin, [topic]);
        const calls = watched(compression);
        const published = await publisher.publishMany(
          Array.from({ length: 200 }, () => ({ type: CANCELLED, data: sampleEvent(CANCELLED, randomUUID()) })),
        );
        expect(calls.compress).toHaveBeenCalled();
        const output = await javaTool('ConsumerPerformance', [
          ...['--bootstrap-server', brokers.join(','), '--topic', topic, '--num-records', String(before + 200)],
          ...['--group', `java-${randomBytes(4).toString('hex')}`, '--timeout', '30000'],
        ]);
        const lines = output.split('\n').map((line) => line.trim());
        const header = lines.findIndex((line) => line.startsWith('start.time,'));
        const names = (lines[header] ?? '').split(',').map((name) => name.trim());
        const values = (lines[header + 1] ?? '').split(',').map((value) => value.trim());
        expect(Number(values[names.indexOf('data.consumed.in.nMsg')]), output).toBeGreaterThanOrEqual(before + 200);

        const codec = createAvroCodec({ registryUrl: schemaRegistryUrl });
        const reader = eventVersion(eventContract(contracts.catalog, CANCELLED)).schema;
        const records = await readRecords(contracts.kafka, [topic], before + 200);
        const ours = records.filter((record) => published.some((result) => result.id === record.headers.ce_id));
        expect(ours).toHaveLength(200);
        const decoded = await Promise.all(
          ours.map(async (record) => (await codec.decode(record.value, reader)).value as { orderId: string }),
        );
        expect(new Set(decoded.map((event) => event.orderId)).size).toBe(200);
      } finally {
        vi.restoreAllMocks();
        await publisher.close();
      }
    },
  );
});
