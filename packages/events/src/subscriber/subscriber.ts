import { JunctionError, probes, registerProbe, telemetry } from '@junction/observability';
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { backoffDelay } from '../backoff.ts';
import { headersToStrings } from '../cloudevents.ts';
import { createAvroCodec } from '../codec.ts';
import { groupDenied } from '../kafka/errors.ts';
import { kafkaPort } from '../kafka/port.ts';
import { afterCommit } from './after-commit.ts';
import { circuitBreaker } from './circuit-breaker.ts';
import { Commits } from './commits.ts';
import { deadLetter } from './dead-letter.ts';
import { decodeStages, IDENTIFIED } from './decode.ts';
import { FetchGate } from './fetch-gate.ts';
import { idempotency } from './idempotency.ts';
import { Lanes } from './lanes.ts';
import type { PartitionOffsets } from './offsets.ts';
import { ensureOwnTopics, producerSink } from './own-topics.ts';
import { subscriberProbe } from './probe.ts';
import { Membership } from './rebalance.ts';
import { retryInPlace } from './retry.ts';
import { retryStage, retryTopics } from './retry-topics.ts';
import { resolveSubscriberOptions, type Subscriber, type SubscriberOptions } from './subscriber-options.ts';
import { attemptTelemetry, observed, reportFinished } from './telemetry.ts';
import { timeout } from './timeout.ts';
import {
  chain,
  deadLetterTopic,
  type EventContext,
  type Handler,
  type InboundRecord,
  type Outcome,
  RETRY_HEADERS,
  retryTopic,
} from './types.ts';

interface Work {
  record: InboundRecord;
  bytes: number;
  generation: number;
  /** The offsets of the record's partition in that generation, and the record's. */
  tracker: PartitionOffsets;
  offset: number;
}

const SINK_TIMEOUT_MS = 30_000;

function toRecord(topic: string, partition: number, message: KafkaMessage): InboundRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString() : null,
    value: message.value,
    headers: headersToStrings(message.headers),
    timestamp: Number(message.timestamp),
  };
}

/**
 * Consumes the topics of the handled event types, and their retry topics, as consumer group
 * `group`. Each record runs through dead-lettering, retry topics, the given middlewares,
 * decoding and its handler. Fetching is decoupled from handling: records are taken into bounded
 * in-flight work (fetching pauses above the bound), so a slow handler never holds up heartbeats;
 * offsets are committed only below the lowest unfinished record of each partition.
 */
export function createSubscriber<Events = Record<string, Record<string, unknown>>>(options: SubscriberOptions<Events>): Subscriber {
  const settings = resolveSubscriberOptions(options);
  const { group } = settings;
  const { catalog } = options;
  const kafka = kafkaPort(options.kafka, { clientId: `junction-${group}` });
  const { user } = kafka;
  const codec = 'url' in options.registry ? createAvroCodec({ registryUrl: options.registry.url }) : options.registry;
  const handled = new Set(Object.keys(options.handlers));
  const topics = [...new Set(catalog.events.filter((event) => handled.has(event.type)).map((event) => event.topic))];
  const blocking = settings.retry.mode === 'blocking';
  const delays = settings.retry.delaysMs;
  const retryTopicNames = blocking ? [] : topics.flatMap((topic) => delays.map((_, i) => retryTopic(group, topic, i + 1)));
  const { records: maxRecords, bytes: maxBytes } = settings.maxInFlight;

  const sessionTimeout = settings.sessionTimeoutMs;
  const consumer: Consumer = kafka.consumer({ groupId: group, sessionTimeoutMs: sessionTimeout });
  const producer: Producer = kafka.producer();
  const sink = producerSink(producer, SINK_TIMEOUT_MS);

  const outcomes: Record<Outcome, number> = { ok: 0, retried: 0, 'dead-lettered': 0, deduplicated: 0, skipped: 0 };
  const dispatch = (ctx: EventContext): Promise<void> => {
    const type = ctx.event?.type ?? '';
    const handler = options.handlers[type as keyof Events] as Handler | undefined;
    if (!handler) {
      ctx.outcome = 'skipped';
      return Promise.resolve();
    }
    return handler(ctx);
  };
  // Outermost first. Dead-lettering and retry topics see only what in-place retries gave up on;
  // each in-place attempt has its own timeout; the breaker counts every attempt; deduplication
  // wraps decoding and the handler, so its transaction holds the handler's effects.
  const breaker = options.breaker ? circuitBreaker({ ...options.breaker, onStateChange: (state) => gate.breaker(state) }) : undefined;
  const { inPlace } = settings.retry;
  const decoding = decodeStages({ codec, catalog, handled, ...(options.pii !== undefined ? { pii: options.pii } : {}) });
  const pipeline = chain(
    [
      deadLetter({ ...options.deadLetter, sink }),
      ...(blocking ? [] : [retryTopics({ delaysMs: delays, sink })]),
      retryInPlace(inPlace),
      ...(breaker ? [breaker.middleware] : []),
      attemptTelemetry(),
      timeout({ ms: settings.timeoutMs }),
      ...(options.middlewares ?? []),
      // Outside idempotency, so that a handler's effects beyond the database run after its inbox transaction commits.
      afterCommit({ onError: (error) => options.logger?.error('an after-commit effect of a handler failed', { error: String(error) }) }),
      // Before the inbox: a type nobody here handles costs no transaction and leaves no inbox row.
      decoding.identify,
      ...(options.idempotency ? [idempotency(options.idempotency)] : []),
      decoding.decode,
    ],
    dispatch,
  );

  const subscribed = [...topics, ...retryTopicNames];
  const gate = new FetchGate({ control: consumer, topics: subscribed, maxRecords, maxBytes, records: () => lanes.size });
  const commits = new Commits((offsets) => consumer.commitOffsets(offsets), options.logger);
  const membership = new Membership(() => {
    for (const work of lanes.remove(() => true)) gate.release(work.bytes);
    commits.clear();
    gate.revoked();
  });
  const abort = new AbortController();

  const run = async (work: Work): Promise<void> => {
    const { record } = work;
    // Every field the middlewares set is here from the start: one shape for every context.
    const ctx: EventContext & { [IDENTIFIED]: string | undefined } = {
      group,
      record,
      attempt: Number(record.headers[RETRY_HEADERS.attempts] ?? 0) + 1,
      signal: abort.signal,
      event: undefined,
      tx: undefined,
      afterCommit: undefined,
      deferred: undefined,
      outcome: undefined,
      [IDENTIFIED]: undefined,
    };
    const handled = await observed(ctx, () => handle(work, ctx));
    if (!handled) return finish(work, undefined);
    const outcome = ctx.outcome ?? 'ok';
    outcomes[outcome] += 1;
    reportFinished(ctx, outcome);
    options.onOutcome?.(outcome, ctx);
    finish(work, ctx);
  };

  /** Runs a record through the chain until it is done; false when it was given up (stop, rebalance). */
  const handle = async (work: Work, ctx: EventContext): Promise<boolean> => {
    // The first try alone here: an async function's frame is as large as all its locals, and this
    // one is made for every record. What is not done after it goes on in `persist`.
    try {
      await pipeline(ctx);
      if (!ctx.deferred) return true;
    } catch (error) {
      return persist(work, ctx, { error });
    }
    return persist(work, ctx, undefined);
  };

  /** Runs a record again until it is done, after a try that failed (`failure`) or was put off; false when it was given up. */
  const persist = async (work: Work, ctx: EventContext, failure: { error: unknown } | undefined): Promise<boolean> => {
    const { record } = work;
    /** Failed tries in a row. */
    let failures = 0;
    for (;;) {
      if (failure) {
        // Only a failed dead-letter write gets here: the record cannot be set aside, so it is
        // tried again (this lane waits; its offset is not committed) until it can, or until stop.
        options.logger?.error('record could not be handled or dead-lettered; trying again', {
          topic: record.topic,
          offset: record.offset,
          error: String(failure.error),
        });
        if (gate.stopped || !membership.isCurrent(work.generation)) return false;
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelay(failures, { initialMs: 500, multiplier: 2, maxMs: 30_000, jitter: 0.2 })),
        );
        failures += 1;
      } else {
        // The breaker put it off (the dependency is down): wait for its probe time and run the
        // record again (fetching is paused meanwhile).
        const retryAfterMs = ctx.deferred?.retryAfterMs ?? 0;
        ctx.deferred = undefined;
        if (gate.stopped || !membership.isCurrent(work.generation)) return false;
        await new Promise((resolve) => setTimeout(resolve, Math.max(50, retryAfterMs)));
        failures = 0;
      }
      failure = undefined;
      try {
        await pipeline(ctx);
        if (!ctx.deferred) return true;
      } catch (error) {
        failure = { error };
      }
    }
  };

  const finish = (work: Work, ctx: EventContext | undefined): void => {
    // Work of an older generation (before a rebalance) no longer owns its partition: it commits nothing.
    if (ctx && membership.isCurrent(work.generation)) work.tracker.finish(work.offset);
    gate.release(work.bytes);
  };

  const { ordering } = settings;
  const lanes = new Lanes<Work>(ordering === 'key' ? settings.maxConcurrency : Number.POSITIVE_INFINITY, run);

  const eachBatch = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> => {
    const { topic, partition } = batch;
    const tracker = commits.tracker(topic, partition);
    const stage = retryStage(topic, group);
    const generation = membership.generation;
    // One lane per partition, or per key within it. The partition's name is made once per batch:
    // lanes are looked up by it for every record.
    const partitionLane = `${topic}\0${partition}`;
    const byKey = ordering === 'key';
    // A held partition's records wait. Only this loop holds one (below), and stops when it does.
    const held = gate.due.isHeld(topic, partition);
    for (const message of batch.messages) {
      if (held || gate.stopped) break;
      const record = toRecord(topic, partition, message);
      // A retry record not due yet: its partition waits for it, without fetching.
      if (stage > 0 && gate.due.holdIfEarly(topic, partition, message.offset, Number(record.headers[RETRY_HEADERS.dueAt] ?? 0))) break;
      const bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
      const offset = Number(message.offset);
      tracker.start(offset, record.timestamp);
      gate.take(bytes);
      lanes.push(byKey ? `${partitionLane}\0${record.key ?? ''}` : partitionLane, { record, bytes, generation, tracker, offset });
      // Taken on: kafkajs fetches on from here; the commit waits for the record to finish.
      resolveOffset(message.offset);
    }
    await heartbeat();
    await gate.holdWhileFull(heartbeat, () => membership.isCurrent(generation));
  };

  const probe = subscriberProbe({
    group,
    kafka,
    topics: subscribed,
    sourceTopics: topics,
    deadLetterTopics: topics.map((topic) => deadLetterTopic(group, topic)),
    assignment: () => membership.owned,
    tracker: (topic, partition) => commits.get(topic, partition),
    inFlight: () => {
      const { inFlightRecords, inFlightBytes: bytes, pausedPartitions } = stats();
      return { records: inFlightRecords, bytes, pausedPartitions };
    },
    circuit: () => breaker?.state(),
  });
  let unregister: (() => void) | undefined;

  const stats = () => ({
    inFlightRecords: lanes.size,
    inFlightBytes: gate.bytes,
    outcomes: { ...outcomes },
    pausedPartitions: gate.pausedPartitions(commits.size),
    rebalances: membership.rebalances,
  });

  let committer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  /** Stops fetching, waits for running work up to the deadline, aborts what is left, commits, disconnects. */
  const drain = async (deadlineMs: number): Promise<void> => {
    gate.stop();
    unregister?.();
    clearInterval(committer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      lanes.idle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    abort.abort(new JunctionError('timeout', 'the subscriber is stopping'));
    await commits.commit();
    breaker?.dispose();
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), probe.close()]);
  };
  return {
    async start() {
      consumer.on(consumer.events.REBALANCING, () => membership.rebalancing());
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const changed = membership.joined(event.payload.memberAssignment);
        if (telemetry.groupJoined.hasSubscribers) telemetry.groupJoined.publish({ group, durationMs: event.payload.duration, changed });
      });
      // kafkajs reports a first join that failed only as a crash event, emitted before run() returns.
      let crash: unknown;
      let restarts = false;
      consumer.on(consumer.events.CRASH, (event) => {
        if (crash === undefined) restarts = event.payload.restart;
        crash ??= event.payload.error;
      });
      const denial = (error: unknown) =>
        groupDenied(
          error,
          `subscriber ${group} cannot start`,
          { user, group, topics: [...topics, ...retryTopicNames, ...topics.map((topic) => deadLetterTopic(group, topic))] },
          options.kafka,
        );
      try {
        // The group's own topics exist before the consumer looks: a subscribed topic appearing
        // later changes the group's metadata, and every change is a rebalance.
        await ensureOwnTopics({ kafka, catalog, group, topics, stages: blocking ? 0 : delays.length });
        await Promise.all([consumer.connect(), producer.connect()]);
        await consumer.subscribe({ topics: subscribed, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
      } catch (error) {
        const denied = await denial(error);
        if (!denied) throw error;
        await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
        throw denied;
      }
      const denied = await denial(crash);
      // A consumer kafkajs restarts may yet join; one it gave up on never will.
      if (denied && (denied.code === 'broker.denied' || !restarts)) {
        await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
        throw denied;
      }
      committer = setInterval(() => void commits.commit(), settings.commitIntervalMs);
      unregister = registerProbe(probes.subscribers, probe);
    },
    stop({ deadlineMs = 30_000 } = {}) {
      // Stopping twice (a SIGTERM during a stop, a test's clean-up) waits for the one stop.
      stopped ??= drain(deadlineMs);
      return stopped;
    },
    get stats() {
      return stats();
    },
  };
}
