import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { CIRCUIT_STATE_VALUE, METRICS, type MetricSpec } from './metric-names.ts';
import { CounterTally, HistogramTally, type Labelling } from './tally.ts';
import {
  type HandlerAttempt,
  type HttpAnswered,
  type HttpClientCalled,
  type PublishSettled,
  probes,
  type RecordFinished,
  type SubscriberProbe,
  telemetry,
} from './telemetry.ts';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The `service` label on every series. */
  service: string;
  /** Default: a new registry (tests and benchmarks make several per process). */
  registry?: Registry;
  /** Node's process metrics (CPU, memory, event-loop lag, GC); default on. */
  processMetrics?: boolean;
  /** How long a scrape waits for Kafka (lag, DLQ depth) or the database (outbox backlog). Default 5 s; keep it under Prometheus's scrape timeout. */
  probeTimeoutMs?: number;
  /** Where a failing probe is reported (once a minute per probe), beside `junction_probe_failures_total`. */
  logger?: Logger;
}

/** The metrics of one process: a registry fed by Junction's telemetry channels and probes. */
export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string>;
  /** Stops listening to the telemetry channels. */
  close(): void;
}

type Labels<S extends MetricSpec> = S['labels'][number];

const counter = <S extends MetricSpec>(spec: S, registers: Registry[], collect?: () => Promise<void> | void) =>
  new Counter<Labels<S>>({ name: spec.name, help: spec.help, labelNames: spec.labels, registers, ...(collect ? { collect } : {}) });
const gauge = <S extends MetricSpec>(spec: S, registers: Registry[], collect?: () => Promise<void> | void) =>
  new Gauge<Labels<S>>({ name: spec.name, help: spec.help, labelNames: spec.labels, registers, ...(collect ? { collect } : {}) });
const byTopic: Labelling<{ topic: string }> = { key: (m) => m.topic, labels: (m) => ({ topic: m.topic }) };
const byGroup: Labelling<{ group: string }> = { key: (m) => m.group, labels: (m) => ({ group: m.group }) };
const byGroupTopic: Labelling<{ group: string; topic: string }> = {
  key: (m) => `${m.group}\0${m.topic}`,
  labels: (m) => ({ group: m.group, topic: m.topic }),
};

/** The HTTP status class of a status code: `2xx`…`5xx`. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Creates the registry of {@link METRICS}, fed by Junction's telemetry: counters and histograms
 * from the channels as things happen; gauges (in-flight work, lag, DLQ depth, outbox backlog)
 * read from the running components' probes when Prometheus scrapes.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = options.registry ?? new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const timeoutMs = options.probeTimeoutMs ?? 5000;
  const r = [registry];
  const lastWarned = new Map<string, number>();
  /** A probe's answer, or undefined — counted in `junction_probe_failures_total` — when it failed or took too long. */
  // A scrape never hangs on a slow dependency: each question has its own deadline.
  const ask = async <T>(probe: (typeof METRICS.probeFailures.values.probe)[number], work: () => Promise<T>): Promise<T | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      probeFailures.inc({ probe });
      const now = Date.now();
      if (options.logger && now - (lastWarned.get(probe) ?? 0) >= 60_000) {
        lastWarned.set(probe, now);
        options.logger.warn('a metrics probe failed; its gauges keep their last answer', { probe, error: String(error) });
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  // The per-event metrics, tallied in plain maps (tally.ts); each key is its label values joined.
  const published = new CounterTally<PublishSettled>(METRICS.eventsPublished, r, {
    key: (m) => `${m.topic}\0${m.eventType}\0${m.outcome}`,
    labels: (m) => ({ topic: m.topic, event_type: m.eventType, outcome: m.outcome }),
  });
  const publishDuration = new HistogramTally<PublishSettled>(METRICS.publishDuration, registry, byTopic);
  const consumed = new CounterTally<RecordFinished>(METRICS.eventsConsumed, r, {
    key: (m) => `${m.group}\0${m.topic}\0${m.eventType}\0${m.outcome}`,
    labels: (m) => ({ group: m.group, topic: m.topic, event_type: m.eventType, outcome: m.outcome }),
  });
  const handlerDuration = new HistogramTally<HandlerAttempt>(METRICS.handlerDuration, registry, {
    key: (m) => `${m.group}\0${m.topic}\0${m.eventType}\0${m.outcome}`,
    labels: (m) => ({ group: m.group, topic: m.topic, event_type: m.eventType, outcome: m.outcome }),
  });
  const retries = new CounterTally<{ group: string; topic: string }>(METRICS.retries, r, byGroupTopic);
  const dlqWrites = new CounterTally<{ group: string; topic: string }>(METRICS.dlqWrites, r, byGroupTopic);
  const rebalances = new CounterTally<{ group: string }>(METRICS.rebalances, r, byGroup);
  const rebalanceDuration = new HistogramTally<{ group: string }>(METRICS.rebalanceDuration, registry, byGroup);
  const httpRequests = new CounterTally<HttpAnswered>(METRICS.httpRequests, r, {
    key: (m) => `${m.method}\0${m.route}\0${statusClass(m.status)}`,
    labels: (m) => ({ method: m.method, route: m.route, status_class: statusClass(m.status) }),
  });
  const httpDuration = new HistogramTally<HttpAnswered>(METRICS.httpDuration, registry, {
    key: (m) => `${m.method}\0${m.route}`,
    labels: (m) => ({ method: m.method, route: m.route }),
  });

  const clientClass = (m: HttpClientCalled) => (m.status ? statusClass(m.status) : 'none');
  const clientLabels: Labelling<HttpClientCalled> = {
    key: (m) => `${m.upstream}\0${m.method}\0${clientClass(m)}\0${m.outcome}`,
    labels: (m) => ({ upstream: m.upstream, method: m.method, status_class: clientClass(m), outcome: m.outcome }),
  };
  const clientRequests = new CounterTally<HttpClientCalled>(METRICS.httpClientRequests, r, clientLabels);
  const clientDuration = new HistogramTally<HttpClientCalled>(METRICS.httpClientDuration, registry, clientLabels);

  gauge(METRICS.publisherInFlightBytes, r, function (this: Gauge) {
    let bytes = 0;
    for (const probe of probes.publishers) bytes += probe.stats().inFlightBytes;
    this.set(bytes);
  });

  // Counters that alerts take increase() of start at 0 for each topic a subscriber reads, as soon
  // as it starts, so the first dead letter is an increase Prometheus can see — even one that
  // happens before the first scrape — not a series that appears at 1.
  const started = new WeakSet<object>();
  const zeroes = (probe: SubscriberProbe) => {
    if (started.has(probe)) return;
    started.add(probe);
    rebalances.add(probe, 0);
    for (const topic of probe.sourceTopics) {
      dlqWrites.add({ group: probe.group, topic }, 0);
      retries.add({ group: probe.group, topic }, 0);
    }
  };
  const onProbe = (probe: object) => {
    if (probes.subscribers.has(probe as SubscriberProbe)) zeroes(probe as SubscriberProbe);
  };
  const subscribers = () => {
    for (const probe of probes.subscribers) zeroes(probe);
    return probes.subscribers;
  };
  gauge(METRICS.inFlightRecords, r, function (this: Gauge) {
    this.reset();
    for (const probe of subscribers()) this.inc({ group: probe.group }, probe.inFlight().records);
  });
  gauge(METRICS.pausedPartitions, r, function (this: Gauge) {
    this.reset();
    for (const probe of subscribers()) this.inc({ group: probe.group }, probe.inFlight().pausedPartitions);
  });
  gauge(METRICS.circuitState, r, function (this: Gauge) {
    this.reset();
    for (const probe of subscribers()) {
      const state = probe.circuit();
      if (state) this.set({ group: probe.group }, CIRCUIT_STATE_VALUE[state]);
    }
  });

  // Kafka and the database are asked once per scrape, whichever gauges need the answer. A probe
  // that fails or times out is counted, and its gauges keep their last answer: a backlog that
  // cannot be read must not look empty (and quietly resolve the alert watching it).
  let lastBacklog: { pending: number; oldestAgeMs: number } | undefined;
  const perScrape = <T>(ask: () => Promise<T>): (() => Promise<T>) => {
    let asked: { at: number; answer: Promise<T> } | undefined;
    return () => {
      if (!asked || Date.now() - asked.at > 1000) asked = { at: Date.now(), answer: ask() };
      return asked.answer;
    };
  };
  /** Asks every running subscriber one question per scrape; a subscriber whose answer failed keeps its last one. */
  const perSubscriber = <T>(name: 'lag' | 'dlq_depth', question: (probe: SubscriberProbe) => Promise<T[]>) => {
    const last = new Map<SubscriberProbe, T[]>();
    return perScrape(() => {
      // A stopped subscriber's last answers go with it.
      for (const gone of last.keys()) if (!probes.subscribers.has(gone)) last.delete(gone);
      return Promise.all(
        [...subscribers()].map(async (probe) => {
          const value = await ask(name, () => question(probe));
          if (value !== undefined) last.set(probe, value);
          return { group: probe.group, value: value ?? last.get(probe) ?? [] };
        }),
      );
    });
  };
  const lag = perSubscriber('lag', (probe) => probe.lag());
  const depth = perSubscriber('dlq_depth', (probe) => probe.deadLetterDepth());
  // Relays in one process share a database, as a rule: the largest answer is the backlog.
  const backlog = perScrape(async () => {
    const answers = (await Promise.all([...probes.outboxes].map((p) => ask('outbox_backlog', () => p.backlog())))).filter(
      (a) => a !== undefined,
    );
    if (answers.length) {
      lastBacklog = { pending: Math.max(...answers.map((b) => b.pending)), oldestAgeMs: Math.max(...answers.map((b) => b.oldestAgeMs)) };
    } else if (!probes.outboxes.size) {
      lastBacklog = undefined;
    }
    return lastBacklog;
  });

  const lagGauge = (field: 'records' | 'seconds') =>
    async function (this: Gauge) {
      const answers = await lag();
      this.reset();
      for (const { group, value } of answers)
        for (const p of value) this.set({ group, topic: p.topic, partition: String(p.partition) }, p[field]);
    };
  gauge(METRICS.lagRecords, r, lagGauge('records'));
  gauge(METRICS.lagSeconds, r, lagGauge('seconds'));
  gauge(METRICS.dlqDepth, r, async function (this: Gauge) {
    const answers = await depth();
    this.reset();
    for (const { group, value } of answers) for (const { topic, records } of value) this.set({ group, topic }, records);
  });
  const outboxGauge = (value: (backlog: { pending: number; oldestAgeMs: number }) => number) =>
    async function (this: Gauge) {
      const known = await backlog();
      if (known) this.set(value(known));
    };
  gauge(
    METRICS.outboxPending,
    r,
    outboxGauge((b) => b.pending),
  );
  gauge(
    METRICS.outboxOldestAge,
    r,
    outboxGauge((b) => b.oldestAgeMs / 1000),
  );
  // Counted after this scrape's questions were answered, so a failure shows in the same scrape.
  const probeFailures = counter(METRICS.probeFailures, r, async () => {
    await Promise.all([lag(), depth(), backlog()]);
  });
  for (const probe of METRICS.probeFailures.values.probe) probeFailures.inc({ probe }, 0);

  const onPublish = (m: PublishSettled) => {
    published.add(m);
    if (m.outcome === 'ok') publishDuration.observe(m, m.durationMs / 1000);
  };
  const onAttempt = (m: HandlerAttempt) => {
    handlerDuration.observe(m, m.durationMs / 1000);
    if (m.attempt > 1) retries.add(m);
  };
  const onFinished = (m: RecordFinished) => {
    consumed.add(m);
    if (m.outcome === 'dead-lettered') dlqWrites.add(m);
  };
  const onJoined = (m: { group: string; durationMs: number; changed: boolean }) => {
    rebalanceDuration.observe(m, m.durationMs / 1000);
    if (m.changed) rebalances.add(m);
  };
  const onHttp = (m: HttpAnswered) => {
    httpRequests.add(m);
    httpDuration.observe(m, m.durationMs / 1000);
  };
  const onClientCall = (m: HttpClientCalled) => {
    clientRequests.add(m);
    clientDuration.observe(m, m.durationMs / 1000);
  };
  telemetry.publishSettled.subscribe(onPublish);
  telemetry.handlerAttempt.subscribe(onAttempt);
  telemetry.recordFinished.subscribe(onFinished);
  telemetry.groupJoined.subscribe(onJoined);
  telemetry.httpAnswered.subscribe(onHttp);
  telemetry.httpClientCalled.subscribe(onClientCall);
  telemetry.probeAdded.subscribe(onProbe);
  subscribers();

  return {
    registry,
    scrape: () => registry.metrics(),
    close() {
      telemetry.publishSettled.unsubscribe(onPublish);
      telemetry.handlerAttempt.unsubscribe(onAttempt);
      telemetry.recordFinished.unsubscribe(onFinished);
      telemetry.groupJoined.unsubscribe(onJoined);
      telemetry.httpAnswered.unsubscribe(onHttp);
      telemetry.httpClientCalled.unsubscribe(onClientCall);
      telemetry.probeAdded.unsubscribe(onProbe);
    },
  };
}
