import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, METRICS } from './metric-names.ts';
import { CounterTally, HistogramTally } from './tally.ts';

/** Every sample of a Prometheus text as `name{sorted labels}` → value, so that label order does not matter. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const series = line.slice(0, cut);
    const open = series.indexOf('{');
    const labels = open < 0 ? [] : (series.slice(open + 1, -1).match(/[a-z_]+="[^"]*"/g) ?? []);
    out.set(`${open < 0 ? series : series.slice(0, open)}{${labels.toSorted().join(',')}}`, Number(line.slice(cut + 1)));
  }
  return out;
}

const spec = METRICS.handlerDuration;
const labelling = {
  key: (m: { topic: string; outcome: string }) => `${m.topic}\0${m.outcome}`,
  labels: (m: { topic: string; outcome: string }) => ({ group: 'g', topic: m.topic, event_type: 'e', outcome: m.outcome }),
};

describe('HistogramTally', () => {
  it('exposes exactly what prom-client’s Histogram would for the same observations, bucket bounds included', async () => {
    const reference = new Registry();
    const histogram = new Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labels,
      buckets: [...LATENCY_BUCKETS],
      registers: [reference],
    });
    const tallied = new Registry();
    const tally = new HistogramTally(spec, tallied, labelling);
    // On a bound, between bounds, above the last one, zero; two series.
    const observations: [string, string, number][] = [
      ['a', 'ok', 0.005],
      ['a', 'ok', 0.0051],
      ['a', 'ok', 0],
      ['a', 'error', 120],
      ['b', 'ok', 0.3],
      ['a', 'ok', 1],
    ];
    for (const [topic, outcome, seconds] of observations) {
      histogram.observe({ group: 'g', topic, event_type: 'e', outcome }, seconds);
      tally.observe({ topic, outcome }, seconds);
    }
    const expected = samples(await reference.metrics());
    expect(expected.size).toBeGreaterThan(30);
    expect(samples(await tallied.metrics())).toEqual(expected);
  });
});

describe('CounterTally', () => {
  it('exposes the totals per series, zeros included, the same on every scrape', async () => {
    const registry = new Registry();
    const counter = new CounterTally(METRICS.retries, [registry], {
      key: (m: { group: string; topic: string }) => `${m.group}\0${m.topic}`,
      labels: (m: { group: string; topic: string }) => ({ group: m.group, topic: m.topic }),
    });
    counter.add({ group: 'g', topic: 'quiet' }, 0);
    for (let i = 0; i < 3; i += 1) counter.add({ group: 'g', topic: 'busy' });
    for (let scrape = 0; scrape < 2; scrape += 1) {
      const text = samples(await registry.metrics());
      expect(text.get('junction_retries_total{group="g",topic="busy"}')).toBe(3);
      expect(text.get('junction_retries_total{group="g",topic="quiet"}')).toBe(0);
    }
    // Prometheus's counters are cumulative: the next scrape continues from the total.
    counter.add({ group: 'g', topic: 'busy' }, 2);
    expect(samples(await registry.metrics()).get('junction_retries_total{group="g",topic="busy"}')).toBe(5);
  });
});
