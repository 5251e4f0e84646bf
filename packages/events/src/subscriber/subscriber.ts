import { JunctionError, probes, registerProbe, telemetry } from '@junction/observability';
import { type Consumer, type EachBatchPayload, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { backoffDelay } from '../backoff.ts';
import { headersToStrings } from '../cloudevents.ts';
import { createAvroCodec } from '../codec.ts';
import { groupDenied, kafkaClientFor, kafkaUser } from '../kafka-connection.ts';
import { afterCommit } from './after-commit.ts';
import { circuitBreaker } from './circuit-breaker.ts';
import { deadLetter } from './dead-letter.ts';
import { decodeStages } from './decode.ts';
import { idempotency } from './idempotency.ts';
import { Lanes } from './lanes.ts';
import { PartitionOffsets } from './offsets.ts';
import { ensureOwnTopics, producerSink } from './own-topics.ts';
import { subscriberProbe } from './probe.ts';
import { retryInPlace } from './retry.ts';
import { retryStage, retryTopics } from './retry-topics.ts';
import type { Subscriber, SubscriberOptions } from './subscriber-options.ts';
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
}

const DEFAULT_DELAYS = [1000, 10_000];
const SINK_TIMEOUT_MS = 30_000;

function toRecord(topic: string, partition: number, message: KafkaMessage): InboundRecord {
  const headers = headersToStrings(message.headers);
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value,
    headers,
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
  const { group, catalog } = options;
  const kafka = kafkaClientFor(options.kafka, { clientId: `junction-${group}`, logLevel: logLevel.NOTHING });
  const user = kafkaUser(options.kafka);
  const codec = 'url' in options.registry ? createAvroCodec({ registryUrl: options.registry.url }) : options.registry;
  const handled = new Set(Object.keys(options.handlers));
  const topics = [...new Set(catalog.events.filter((event) => handled.has(event.type)).map((event) => event.topic))];
  const blocking = options.retry?.mode === 'blocking';
  const delays = options.retry?.delaysMs ?? DEFAULT_DELAYS;
  const retryTopicNames = blocking ? [] : topics.flatMap((topic) => delays.map((_, i) => retryTopic(group, topic, i + 1)));
  const maxRecords = options.maxInFlight?.records ?? 5000;
  const maxBytes = options.maxInFlight?.bytes ?? 64 * 1024 * 1024;

  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    sessionTimeout,
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
    // kafkajs heartbeats between fetches: a fetch may not wait long enough to starve the session.
    // kafkajs also sleeps this long when every partition is paused (an open breaker).
    maxWaitTimeInMs: Math.min(1000, Math.floor(sessionTimeout / 4)),
  });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
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
  let breakerOpen = false;
  const breaker = options.breaker
    ? circuitBreaker({
        ...options.breaker,
        onStateChange: (state) => {
          breakerOpen = state === 'open';
          if (breakerOpen) pauseAll();
          else if (!stopping) resumeAll();
        },
      })
    : undefined;
  const inPlace = options.retry?.inPlace ?? { retries: 2 };
  const decoding = decodeStages({ codec, catalog, handled, ...(options.pii !== undefined ? { pii: options.pii } : {}) });
  const pipeline = chain(
    [
      deadLetter({ ...options.deadLetter, sink }),
      ...(blocking ? [] : [retryTopics({ delaysMs: delays, sink })]),
      retryInPlace({ retries: inPlace.retries, backoff: inPlace.backoff ?? { initialMs: 100, multiplier: 2, maxMs: 1000, jitter: 0.2 } }),
      ...(breaker ? [breaker.middleware] : []),
      attemptTelemetry(),
      timeout({ ms: options.timeoutMs ?? 30_000 }),
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

  const offsets = new Map<string, PartitionOffsets>();
  const slot = (topic: string, partition: number) => `${topic}\0${partition}`;
  const held = new Map<string, NodeJS.Timeout>();
  let generation = 0;
  let rebalances = 0;
  let inFlightBytes = 0;
  let pausedForPressure = false;
  let stopping = false;
  const abort = new AbortController();

  const run = async (work: Work): Promise<void> => {
    const { record } = work;
    const ctx: EventContext = {
      group,
      record,
      attempt: Number(record.headers[RETRY_HEADERS.attempts] ?? 0) + 1,
      signal: abort.signal,
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
    const { record } = work;
    for (let failures = 0; ; failures += 1) {
      try {
        await pipeline(ctx);
        return true;
      } catch (error) {
        if (error instanceof JunctionError && error.code === 'circuit.open') {
          // The dependency is down: wait for the breaker's probe time and run the record again,
          // rather than spend its retries (fetching is paused meanwhile).
          if (stopping || work.generation !== generation) return false;
          await new Promise((resolve) => setTimeout(resolve, Math.max(50, Number(error.context.retryAfterMs ?? 1000))));
          failures = -1;
          continue;
        }
        // Only a failed dead-letter write gets here: the record cannot be set aside, so it is
        // tried again (this lane waits; its offset is not committed) until it can, or until stop.
        options.logger?.error('record could not be handled or dead-lettered; trying again', {
          topic: record.topic,
          offset: record.offset,
          error: String(error),
        });
        if (stopping || work.generation !== generation) return false;
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelay(failures, { initialMs: 500, multiplier: 2, maxMs: 30_000, jitter: 0.2 })),
        );
      }
    }
  };

  const finish = (work: Work, ctx: EventContext | undefined): void => {
    inFlightBytes -= work.bytes;
    // Work of an older generation (before a rebalance) no longer owns its partition: it commits nothing.
    if (ctx && work.generation === generation)
      offsets.get(slot(work.record.topic, work.record.partition))?.finish(Number(work.record.offset));
    if (drained && belowLowWatermark()) drained();
  };

  const belowLowWatermark = () => lanes.size <= maxRecords / 2 && inFlightBytes <= maxBytes / 2;
  /** Wakes the fetch loop held for backpressure. */
  let drained: (() => void) | undefined;

  /**
   * Backpressure: above the high watermark, fetching stops by holding kafkajs's batch loop here —
   * heartbeating all the while — until the work drains below the low watermark. (Pausing every
   * partition instead would make kafkajs sleep a whole fetch wait before it looks again.)
   */
  const holdWhileFull = async (heartbeat: () => Promise<void>, since: number): Promise<void> => {
    if (lanes.size < maxRecords && inFlightBytes < maxBytes) return;
    pausedForPressure = true;
    try {
      while (!belowLowWatermark() && !stopping && since === generation) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        drained = undefined;
        await heartbeat();
      }
    } finally {
      pausedForPressure = false;
    }
  };

  const ordering = options.ordering ?? 'partition';
  const lanes = new Lanes<Work>(ordering === 'key' ? (options.maxConcurrency ?? 16) : Number.POSITIVE_INFINITY, run);
  const laneOf = (record: InboundRecord) => `${record.topic}\0${record.partition}${ordering === 'key' ? `\0${record.key ?? ''}` : ''}`;

  const subscribed = () => [...topics, ...retryTopicNames];
  const pauseAll = () => consumer.pause(subscribed().map((topic) => ({ topic })));
  /** Resumes every topic, then pauses again the partitions waiting for a retry record to fall due. */
  const resumeAll = () => {
    if (breakerOpen) return;
    consumer.resume(subscribed().map((topic) => ({ topic })));
    for (const key of held.keys()) {
      const [topic = '', partition = '0'] = key.split('\0');
      consumer.pause([{ topic, partitions: [Number(partition)] }]);
    }
  };

  const eachBatch = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> => {
    const key = slot(batch.topic, batch.partition);
    let tracker = offsets.get(key);
    if (!tracker) {
      tracker = new PartitionOffsets();
      offsets.set(key, tracker);
    }
    for (const message of batch.messages) {
      if (stopping || held.has(key)) break;
      const record = toRecord(batch.topic, batch.partition, message);
      const dueAt = Number(record.headers[RETRY_HEADERS.dueAt] ?? 0);
      if (retryStage(batch.topic, group) > 0 && dueAt > Date.now()) {
        // Not due yet: wait without fetching, by pausing this partition until then, and read it again.
        consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        consumer.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
        held.set(
          key,
          setTimeout(() => {
            held.delete(key);
            if (!breakerOpen && !stopping) consumer.resume([{ topic: batch.topic, partitions: [batch.partition] }]);
          }, dueAt - Date.now()),
        );
        break;
      }
      const bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
      tracker.start(Number(message.offset), Number(message.timestamp));
      inFlightBytes += bytes;
      lanes.push(laneOf(record), { record, bytes, generation });
      // Taken on: kafkajs fetches on from here; the commit waits for the record to finish.
      resolveOffset(message.offset);
    }
    await heartbeat();
    await holdWhileFull(heartbeat, generation);
  };

  const commit = async (): Promise<void> => {
    const entries = [...offsets.entries()].flatMap(([key, tracker]) => {
      const point = tracker.commitPoint();
      if (point === undefined) return [];
      const [topic = '', partition = '0'] = key.split('\0');
      return [{ topic, partition: Number(partition), offset: String(point), tracker, point }];
    });
    if (!entries.length) return;
    try {
      await consumer.commitOffsets(entries.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      for (const entry of entries) entry.tracker.committed(entry.point);
    } catch (error) {
      // During a rebalance commits fail; the next owner starts from the last commit, and handlers are idempotent.
      options.logger?.warn('offset commit failed; will try again', { error: String(error) });
    }
  };

  /** Forgets the work and offsets of the partitions held so far; see the GROUP_JOIN handler in start(). */
  const revoke = (): void => {
    generation += 1;
    for (const work of lanes.remove(() => true)) inFlightBytes -= work.bytes;
    for (const timer of held.values()) clearTimeout(timer);
    held.clear();
    offsets.clear();
    drained?.();
  };

  /** The partitions this member owns, from its last group join. */
  let owned = new Map<string, number[]>();
  const probe = subscriberProbe({
    group,
    kafka,
    topics: subscribed(),
    sourceTopics: topics,
    deadLetterTopics: topics.map((topic) => deadLetterTopic(group, topic)),
    assignment: () => owned,
    tracker: (topic, partition) => offsets.get(slot(topic, partition)),
    inFlight: () => {
      const { inFlightRecords, inFlightBytes: bytes, pausedPartitions } = stats();
      return { records: inFlightRecords, bytes, pausedPartitions };
    },
    circuit: () => breaker?.state(),
  });
  let unregister: (() => void) | undefined;

  const stats = () => ({
    inFlightRecords: lanes.size,
    inFlightBytes,
    outcomes: { ...outcomes },
    pausedPartitions: pausedForPressure || breakerOpen ? offsets.size : held.size,
    rebalances,
  });

  let committer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  /** Stops fetching, waits for running work up to the deadline, aborts what is left, commits, disconnects. */
  const drain = async (deadlineMs: number): Promise<void> => {
    stopping = true;
    unregister?.();
    clearInterval(committer);
    try {
      pauseAll();
    } catch {
      // Never started, or already disconnected: nothing to pause.
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      lanes.idle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    abort.abort(new JunctionError('timeout', 'the subscriber is stopping'));
    await commit();
    for (const wait of held.values()) clearTimeout(wait);
    breaker?.dispose();
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), probe.close()]);
  };
  return {
    async start() {
      // Partitions may move: queued work is dropped (whoever owns the partition next reads it
      // again from the last commit), running work finishes but commits nothing, and tracking starts
      // afresh. kafkajs says "rebalancing" only on some paths; every join after the first is one.
      // kafkajs may also rejoin a few times right after it starts, with the same assignment: the
      // work is dropped all the same (fetching restarts from the commit), but only a changed
      // assignment counts as a rebalance.
      let assignment: string | undefined;
      consumer.on(consumer.events.REBALANCING, () => revoke());
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const joined = JSON.stringify(event.payload.memberAssignment);
        const changed = assignment !== undefined && joined !== assignment;
        if (assignment !== undefined) {
          if (changed) rebalances += 1;
          revoke();
        }
        assignment = joined;
        owned = new Map(Object.entries(event.payload.memberAssignment));
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
        await consumer.subscribe({ topics: [...topics, ...retryTopicNames], fromBeginning: true });
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
      committer = setInterval(() => void commit(), options.commitIntervalMs ?? 1000);
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
