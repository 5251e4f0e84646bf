import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type AvroCodec, type Catalog, createAvroCodec, createPublisher, createSubscriber, memoryInbox } from '@junction/events';
import { createLogger, createMetrics, type Logger, startTracing } from '@junction/observability';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { dropGroupTopics, waitFor } from './consume.ts';
import { discardingBatchProcessor } from './discard-spans.ts';
import { junctionRun, median, type ProduceBenchOptions, type RunTopic, runTopic, type Workload, workload } from './produce.ts';

/** What `bench observability` measures. */
export interface ObservabilityBenchOptions {
  brokers: string[];
  registryUrl: string;
  catalog: Catalog;
  /** Events per run, published or consumed. */
  events: number;
  /** Avro body size of each event, in bytes. */
  size: number;
  /** Distinct keys, spread round robin. */
  keys: number;
  /** Rounds of off and on, alternating which goes first. */
  rounds: number;
  /** Also run a block with tracing on, after the alternating rounds. */
  tracing: boolean;
  /** Called when a run starts, and about once a second while one publishes. */
  onProgress?: (message: string) => void;
}

/** Which observability a run has: none, what every service has (metrics, logs), or that and tracing. */
export type Variant = 'off' | 'on' | 'tracing';

/** One run's numbers. */
export interface ObservedRun {
  side: 'publish' | 'consume';
  variant: Variant;
  round: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  megabytesPerSecond: number;
  /** Publish call to acknowledgement; publish runs only. */
  p50Ms?: number;
  p99Ms?: number;
  /** Scrapes of the metrics registry during the run; 0 when off. */
  scrapes: number;
}

/** Median throughput with observability over that without; tracing's when its block ran. */
export interface Ratios {
  ratio: number;
  tracingRatio?: number;
}

/** Every run, the median of each round's on/off ratio, and tracing's ratio of medians. */
export interface ObservabilityBenchResult {
  eventBytes: number;
  runs: ObservedRun[];
  publish: Ratios;
  consume: Ratios;
  /** Records each consume run took before it measured. */
  consumeWarmUp: number;
  /** Spans the tracing block created and threw away. */
  spans: number;
}

const TYPE = 'com.junction.orders.OrderCancelled';
/** Records each consume run takes before it measures. */
const WARM_UP = 2000;
const consumeWarmUp = (events: number): number => Math.max(1, Math.min(WARM_UP, Math.floor(events / 2)));
/** As the produce bench: publishes outstanding at once, and partitions of each topic. */
const WINDOW = 1000;
const PARTITIONS = 6;
/** How often the metrics are scraped while observability is on: Prometheus at its most eager. */
const SCRAPE_MS = 1000;

/** The telemetry a run has while it lasts; `close` ends it and says how many scrapes there were. */
interface Observed {
  logger?: Logger;
  close(): Promise<number>;
}

/**
 * Metrics fed by the telemetry channels (process metrics included) and scraped once a second,
 * which asks the subscribers' probes for lag and dead-letter depth as a Prometheus scrape does,
 * and a JSON logger writing to nowhere, handed to the subscriber. prom-client's GC observer and
 * event-loop monitor cannot be stopped once started, so they keep running in the off runs that
 * follow an on run: if anything, the cost is understated by them.
 */
function observe(on: boolean): Observed {
  if (!on) return { close: async () => 0 };
  const metrics = createMetrics({ service: 'bench' });
  const logger = createLogger({ service: 'bench', stream: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  let scrapes = 0;
  let scraping: Promise<void> | undefined;
  // Never two scrapes at once: Prometheus waits for one before the next.
  const timer = setInterval(() => {
    scraping ??= metrics
      .scrape()
      .then(
        () => {
          scrapes += 1;
        },
        () => {},
      )
      .finally(() => {
        scraping = undefined;
      });
  }, SCRAPE_MS);
  logger.info('bench run started');
  return {
    logger,
    async close() {
      clearInterval(timer);
      await scraping;
      metrics.close();
      logger.close();
      return scrapes;
    },
  };
}

/** What every run of one bench shares. */
interface Bench {
  options: ObservabilityBenchOptions;
  produce: ProduceBenchOptions;
  kafka: Kafka;
  admin: Admin;
  codec: AvroCodec;
  work: Workload;
}

const LABEL: Record<Variant, string> = { off: 'off', on: 'metrics + logs', tracing: 'metrics + logs + tracing' };

/** The produce bench's Junction side: `events` publishes, 1000 outstanding, after a warm-up; on a fresh topic. */
async function publishRun(bench: Bench, variant: Variant, round: number): Promise<ObservedRun> {
  const target = await runTopic(bench.produce, bench.admin, bench.codec);
  try {
    const produce: ProduceBenchOptions = {
      ...bench.produce,
      onProgress: (_run, done, total) =>
        bench.options.onProgress?.(`publish, ${LABEL[variant]}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')} events`),
    };
    const observed = observe(variant !== 'off');
    let scrapes = 0;
    let result: Awaited<ReturnType<typeof junctionRun>>;
    try {
      result = await junctionRun(produce, bench.kafka, bench.codec, target, bench.work);
    } finally {
      scrapes = await observed.close();
    }
    const { events, seconds, eventsPerSecond, megabytesPerSecond, p50Ms, p99Ms } = result;
    return { side: 'publish', variant, round, events, seconds, eventsPerSecond, megabytesPerSecond, p50Ms, p99Ms, scrapes };
  } finally {
    await target.drop();
  }
}

/** Publishes the run's events into `target` before it is consumed, unobserved (unless tracing is on for the whole block). */
async function fill(bench: Bench, target: RunTopic): Promise<void> {
  const publisher = createPublisher({ service: 'bench', kafka: bench.kafka, registry: bench.codec, catalog: target.catalog });
  try {
    for (let at = 0; at < bench.options.events; at += WINDOW) {
      const count = Math.min(WINDOW, bench.options.events - at);
      await Promise.all(Array.from({ length: count }, (_, i) => publisher.publish(TYPE, bench.work.data(bench.work.keyOf(at + i)))));
    }
  } finally {
    await publisher.close();
  }
}

/**
 * The consume bench's Junction side — decode, deduplicate (in memory), commit, through the whole
 * chain — on a fresh topic filled beforehand. Timed from the 2000th record finished to the last:
 * joining the group and the first records (the writer schema fetched, code not yet optimised),
 * which observability does not change, would only dilute the difference.
 */
async function consumeRun(bench: Bench, variant: Variant, round: number): Promise<ObservedRun> {
  const { options } = bench;
  const target = await runTopic(bench.produce, bench.admin, bench.codec);
  const group = `bench-${randomBytes(4).toString('hex')}`;
  try {
    options.onProgress?.(`consume, ${LABEL[variant]}: filling ${options.events.toLocaleString('en')} events`);
    await fill(bench, target);
    options.onProgress?.(`consume, ${LABEL[variant]}: consuming`);
    const observed = observe(variant !== 'off');
    const from = consumeWarmUp(options.events);
    let done = 0;
    let first = 0;
    let last = 0;
    const subscriber = createSubscriber({
      group,
      kafka: { brokers: options.brokers },
      registry: { url: options.registryUrl },
      catalog: target.catalog,
      ordering: 'partition',
      maxConcurrency: 64,
      idempotency: { store: memoryInbox({ maxEntries: options.events * 2 }), ttlMs: 3_600_000 },
      handlers: { [TYPE]: async () => {} },
      onOutcome: () => {
        done += 1;
        if (done === from) first = performance.now();
        if (done === options.events) last = performance.now();
      },
      ...(observed.logger ? { logger: observed.logger } : {}),
    });
    let scrapes = 0;
    try {
      await subscriber.start();
      await waitFor(() => done >= options.events, 300_000, `consume, ${LABEL[variant]}`);
    } finally {
      // Scraping ends first: a lag question still in flight when the subscriber stops makes
      // kafkajs reconnect the probe's closed admin, a socket that then keeps this process alive
      // until the broker drops it as idle (10 minutes).
      scrapes = await observed.close();
      await subscriber.stop({ deadlineMs: 5000 });
    }
    const events = Math.max(1, options.events - from);
    const seconds = Math.max(last - first, 1) / 1000;
    return {
      side: 'consume',
      variant,
      round,
      events,
      seconds,
      eventsPerSecond: events / seconds,
      megabytesPerSecond: (events * bench.work.eventBytes) / seconds / 1e6,
      scrapes,
    };
  } finally {
    await target.drop();
    // The subscriber made the group's retry and dead-letter topics; they go with the run.
    await dropGroupTopics(bench.admin, group);
  }
}

/** Ratio of the medians: for tracing, whose rounds come after the off ones and pair with none. */
const ratio = (runs: ObservedRun[], side: ObservedRun['side'], variant: Variant): number | undefined => {
  const on = runs.filter((r) => r.side === side && r.variant === variant).map((r) => r.eventsPerSecond);
  const off = runs.filter((r) => r.side === side && r.variant === 'off').map((r) => r.eventsPerSecond);
  return on.length && off.length ? median(on) / median(off) : undefined;
};

/**
 * The median of each round's on/off ratio. The two runs of a round are back to back, so a
 * machine that slows down halfway through the bench (this one can lose 40 % for minutes) slows
 * both, and the ratio of the pair holds where a ratio of medians across rounds would not.
 */
const pairedRatio = (runs: ObservedRun[], side: ObservedRun['side']): number | undefined => {
  const of = (variant: Variant, round: number) => runs.find((r) => r.side === side && r.variant === variant && r.round === round);
  const ratios = [...new Set(runs.map((r) => r.round))].flatMap((round) => {
    const [on, off] = [of('on', round), of('off', round)];
    return on && off ? [on.eventsPerSecond / off.eventsPerSecond] : [];
  });
  return ratios.length ? median(ratios) : undefined;
};

/**
 * Publishes and consumes the same keyed Avro events through Junction with observability off (no
 * metrics, no tracing: the SDK's telemetry costs a `hasSubscribers` check and non-recording spans)
 * and on (metrics scraped once a second, a logger), in one process, each run on a fresh topic.
 * Rounds alternate which goes first; the cost is the median of each round's on/off ratio.
 *
 * Tracing comes last, in a block of its own: once the SDK has handed `@junction/events` its
 * tracer, the API's proxy keeps it, so spans go on recording after `shutdown()` and
 * `trace.disable()`, and an off run after a traced one would not be off.
 */
export async function runObservabilityBench(options: ObservabilityBenchOptions): Promise<ObservabilityBenchResult> {
  const kafka = new Kafka({ clientId: 'junction-bench', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const { brokers, registryUrl, catalog, events, size, keys, rounds } = options;
  const produce: ProduceBenchOptions = {
    brokers,
    registryUrl,
    catalog,
    events,
    size,
    keys,
    rounds,
    window: WINDOW,
    partitions: PARTITIONS,
  };
  const bench: Bench = {
    options,
    produce,
    kafka,
    admin,
    codec: createAvroCodec({ registryUrl: options.registryUrl }),
    work: workload(produce),
  };
  const runs: ObservedRun[] = [];
  const step = (round: number, rounds: number, what: string) => options.onProgress?.(`round ${round} of ${rounds}: ${what}`);
  let spans = 0;
  await admin.connect();
  try {
    // One unmeasured run of each side with observability on (which takes the off paths too), so
    // that round 1's first run does not pay for code not yet optimised.
    const warmUp = Math.min(options.events, 10_000);
    const warm: Bench = { ...bench, options: { ...options, events: warmUp }, produce: { ...produce, events: warmUp } };
    options.onProgress?.(`warming up: ${warmUp.toLocaleString('en')} events published and consumed`);
    await publishRun(warm, 'on', 0);
    await consumeRun(warm, 'on', 0);
    for (let round = 1; round <= options.rounds; round += 1) {
      const order: Variant[] = round % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
      for (const variant of order) {
        step(round, options.rounds, `publish, ${LABEL[variant]}`);
        runs.push(await publishRun(bench, variant, round));
      }
      for (const variant of order) {
        step(round, options.rounds, `consume, ${LABEL[variant]}`);
        runs.push(await consumeRun(bench, variant, round));
      }
    }
    if (options.tracing) {
      const processor = discardingBatchProcessor();
      const tracing = startTracing({ service: 'bench', spanProcessors: [processor] });
      try {
        for (let round = 1; round <= options.rounds; round += 1) {
          step(round, options.rounds, `publish, ${LABEL.tracing}`);
          runs.push(await publishRun(bench, 'tracing', round));
          step(round, options.rounds, `consume, ${LABEL.tracing}`);
          runs.push(await consumeRun(bench, 'tracing', round));
        }
      } finally {
        await tracing.shutdown();
        spans = processor.exported + processor.dropped;
      }
    }
  } finally {
    await admin.disconnect();
  }
  const ratios = (side: ObservedRun['side']): Ratios => {
    const tracingRatio = ratio(runs, side, 'tracing');
    return { ratio: pairedRatio(runs, side) ?? 0, ...(tracingRatio === undefined ? {} : { tracingRatio }) };
  };
  return {
    eventBytes: bench.work.eventBytes,
    runs,
    publish: ratios('publish'),
    consume: ratios('consume'),
    consumeWarmUp: consumeWarmUp(options.events),
    spans,
  };
}
