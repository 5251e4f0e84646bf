import { describe, expect, it } from 'vitest';
import { parseConsumerPerformance, parseEndToEndLatency, parseProducerPerformance } from './kafka-java.ts';

describe("Kafka's Java tools, as the benches read them", () => {
  it("reads EndToEndLatency's percentiles, and nothing from other output", () => {
    const output = '0\t12.3\n1000\t1.1\nAvg latency: 1.9810 ms\nPercentiles: 50th = 2, 99th = 7, 99.9th = 31\n';
    expect(parseEndToEndLatency(output)).toEqual({ p50Ms: 2, p99Ms: 7, p999Ms: 31 });
    expect(parseEndToEndLatency('Percentiles: 50th = 1, 99th = 3\n')).toEqual({ p50Ms: 1, p99Ms: 3 });
    expect(parseEndToEndLatency('Exception in thread "main"')).toBeUndefined();
  });

  it("reads ProducerPerformance's steady state when it warmed up, else its last summary", () => {
    const warmed = [
      'Warmup first 50000 records. Steady state results will print after the complete test summary.',
      '120000 records sent, 23996.8 records/sec (23.43 MB/sec), 900.1 ms avg latency, 1200.0 ms max latency.',
      '250000 records sent, 58383.932742 records/sec (57.02 MB/sec), 323.48 ms avg latency, 942.00 ms max latency, 261 ms 50th, 802 ms 95th, 897 ms 99th, 928 ms 99.9th.',
      '200000 steady state records sent, 60042.029421 records/sec (58.63 MB/sec), 312.54 ms avg latency, 942.00 ms max latency, 262 ms 50th, 803 ms 95th, 904 ms 99th, 931 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerformance(warmed)).toEqual({
      records: 200_000,
      recordsPerSecond: 60042.029421,
      megabytesPerSecond: 58.63,
      p50Ms: 262,
      p99Ms: 904,
    });
    const plain =
      '50000 records sent, 23843.586075 records/sec (23.28 MB/sec), 741.22 ms avg latency, 990.00 ms max latency, 767 ms 50th, 947 ms 95th, 970 ms 99th, 984 ms 99.9th.';
    expect(parseProducerPerformance(plain)).toMatchObject({ records: 50_000, recordsPerSecond: 23843.586075, p50Ms: 767, p99Ms: 970 });
    expect(
      parseProducerPerformance('120000 records sent, 23996.8 records/sec (23.43 MB/sec), 900.1 ms avg latency, 1200.0 ms max latency.'),
    ).toBeUndefined();
  });

  it("reads ConsumerPerformance's CSV by column name", () => {
    const output = [
      'Warning: something',
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-12-07 11:17:57:165, 2026-12-07 11:17:57:893, 48.8281, 67.0716, 50000, 68681.3187, 348, 380, 128.4951, 131578.9474',
    ].join('\n');
    expect(parseConsumerPerformance(output)).toEqual({ records: 50_000, recordsPerSecond: 68681.3187, fetchRecordsPerSecond: 131578.9474 });
    expect(parseConsumerPerformance('start.time, end.time\n')).toBeUndefined();
  });
});
