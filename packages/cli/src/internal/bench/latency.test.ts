import { describe, expect, it } from 'vitest';
import { latencyMet, latencyStats } from './latency.ts';

describe('latency bench', () => {
  it('takes p50, p99 and p99.9 of the latencies, in any order', () => {
    const latencies = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expect(latencyStats(latencies)).toEqual({ messages: 1000, p50Ms: 500, p99Ms: 990, p999Ms: 999 });
  });

  it("holds Junction's p99 to Kafka's whole-millisecond p99 plus 1 ms", () => {
    const kafka = { p50Ms: 1, p99Ms: 3, messages: 100 };
    expect(latencyMet({ messages: 100, p50Ms: 1, p99Ms: 4, p999Ms: 9 }, kafka)).toBe(true);
    expect(latencyMet({ messages: 100, p50Ms: 1, p99Ms: 4.01, p999Ms: 9 }, kafka)).toBe(false);
  });
});
