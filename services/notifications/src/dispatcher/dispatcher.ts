import type { ServiceContext, WebhookMetrics, Worker } from '@junction/service';
import type { NotificationsConfig } from '../config.ts';
import type { AddressPolicy } from '../delivery/address-policy.ts';
import { type SendResult, sendWebhook } from '../delivery/sender.ts';
import { webhookHeaders } from '../delivery/signing.ts';
import {
  type AttemptRecord,
  type ClaimedDelivery,
  claimDeliveries,
  endpointsWithDueWork,
  type FailureClock,
  type Settlement,
  settle,
} from './deliveries.ts';
import { createEndpointGate } from './endpoint-gate.ts';
import { afterFailure, type RetrySchedule } from './schedule.ts';

/** What the attempt log keeps of an endpoint's answer. */
const LOGGED_BODY_CHARS = 1024;

/** Attempts recorded in one transaction at most. */
const SETTLE_BATCH = 64;

/** Endpoints looked at in one round; more wait for the next. */
const ENDPOINTS_PER_ROUND = 500;

/** The dispatcher: a worker of the kit that can be woken when deliveries became due. */
export interface Dispatcher extends Worker {
  /**
   * Look for due deliveries now: of these subscriptions (a fan-out stored deliveries for them), or
   * of every one (a replay, an endpoint enabled again).
   */
  wake(subscriptions?: readonly string[]): void;
  /** Forgets an endpoint's breaker (its owner enabled it again). */
  reset(subscriptionId: string): void;
}

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  policy: AddressPolicy;
  /** Extra CA trusted for https endpoints. */
  ca?: Buffer;
  /** Where each recorded attempt is counted. */
  metrics: WebhookMetrics;
}

/**
 * Sends due deliveries to their endpoints. It asks the endpoint gate how many an endpoint may
 * take (its own slots, rate and breaker, so a dead endpoint only ever holds its own), claims that
 * many in one statement, and sends them without waiting for one another. Each attempt is signed
 * with every valid secret, recorded, and settled with its WebhookDelivered or WebhookFailed event
 * in one transaction. An endpoint is refilled when it answers, when an attempt is settled and
 * when a fan-out stored deliveries for it; a full round over every endpoint with due work runs
 * every poll interval, when a breaker lets a probe through and when woken without subscriptions
 * (a replay, an endpoint enabled again), one at a time.
 */
export function createDispatcher(service: ServiceContext<NotificationsConfig>, options: DispatcherOptions): Dispatcher {
  const own = service.own;
  const schedule: RetrySchedule = {
    initialMs: own.JUNCTION_NOTIFICATIONS_RETRY_INITIAL_MS,
    multiplier: own.JUNCTION_NOTIFICATIONS_RETRY_MULTIPLIER,
    maxMs: own.JUNCTION_NOTIFICATIONS_RETRY_MAX_MS,
    jitter: own.JUNCTION_NOTIFICATIONS_RETRY_JITTER,
    maxAttempts: own.JUNCTION_NOTIFICATIONS_MAX_ATTEMPTS,
    maxAgeMs: own.JUNCTION_NOTIFICATIONS_MAX_AGE_MS,
  };
  // The endpoint's failure clock runs while attempts go on. The longest wait between two of them
  // is a retry delay at its cap (with jitter), an open breaker and a poll; twice that is a pause.
  const failureClock: FailureClock = {
    disableAfterMs: own.JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS,
    pauseMs: 2 * (schedule.maxMs * (1 + schedule.jitter) + own.JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS + own.JUNCTION_NOTIFICATIONS_POLL_MS),
  };
  // Long enough for an attempt and its settling; an attempt cut short by a crash is retried after it.
  const leaseMs = own.JUNCTION_NOTIFICATIONS_CONNECT_TIMEOUT_MS + own.JUNCTION_NOTIFICATIONS_ATTEMPT_TIMEOUT_MS + 30_000;
  const gate = createEndpointGate({
    concurrency: own.JUNCTION_NOTIFICATIONS_ENDPOINT_CONCURRENCY,
    ratePerSecond: own.JUNCTION_NOTIFICATIONS_ENDPOINT_RATE,
    breakerFailures: own.JUNCTION_NOTIFICATIONS_BREAKER_FAILURES,
    breakerOpenMs: own.JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS,
    onProbe: () => wake(),
  });
  /** Claims and attempts under way: stopping waits for them. */
  const inFlight = new Set<Promise<void>>();
  /**
   * Attempts claimed and not yet recorded: sent, or answered and waiting for their transaction.
   * Bounded by JUNCTION_NOTIFICATIONS_CONCURRENCY, so outcomes never pile up faster than they are recorded.
   */
  let unsettled = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  /**
   * Takes the slots `endpoints` have now (within the process's bound), claims that many of their
   * due deliveries in one statement, and sends them.
   */
  const dispatch = async (endpoints: readonly string[]) => {
    const ids: string[] = [];
    const slots: number[] = [];
    let left = own.JUNCTION_NOTIFICATIONS_CONCURRENCY - unsettled;
    for (const id of endpoints) {
      if (left <= 0) break;
      let taken = 0;
      // Slots are taken before the claim, so what the claim returns may always be sent.
      while (taken < Math.min(gate.slots(id), left) && gate.start(id)) taken += 1;
      if (taken === 0) continue;
      ids.push(id);
      slots.push(taken);
      left -= taken;
    }
    if (ids.length === 0) return;
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await claimDeliveries(service.db, ids, slots, leaseMs);
    } finally {
      // Slots the claim did not fill (nothing more due, or another replica took it) go back unused.
      const used = new Map<string, number>();
      for (const d of claimed) used.set(d.subscriptionId, (used.get(d.subscriptionId) ?? 0) + 1);
      ids.forEach((id, i) => {
        for (let n = used.get(id) ?? 0; n < (slots[i] ?? 0); n += 1) gate.cancel(id);
      });
    }
    unsettled += claimed.length;
    for (const delivery of claimed) {
      track(
        send(delivery).finally(() => {
          unsettled -= 1;
        }),
      );
    }
  };

  /** Keeps `work` until it ends, so that stopping waits for it. */
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  /**
   * Sends an endpoint more of its due deliveries, if it has room: when it answered (its slot is
   * free while the attempt is still being recorded), when an attempt was settled, and when a
   * fan-out stored deliveries for it. No look over every endpoint: only the full round does that.
   */
  const refill = (endpoint: string) => {
    if (stopped || gate.slots(endpoint) === 0) return;
    track(
      dispatch([endpoint]).catch((error: Error) => {
        service.logger.warn(`the webhook dispatcher could not claim deliveries of ${endpoint}: ${error.message}`, { error: error.message });
      }),
    );
  };

  /** The full round: every endpoint with due work that could take some (retries come due, leases run out, enabled again). */
  const round = async () => {
    if (own.JUNCTION_NOTIFICATIONS_CONCURRENCY - unsettled <= 0) return;
    // Endpoints that could take nothing now are not looked for: a dead one's backlog costs the others nothing.
    await dispatch(await endpointsWithDueWork(service.db, ENDPOINTS_PER_ROUND, gate.blocked()));
  };

  const send = async (delivery: ClaimedDelivery) => {
    const startedAt = new Date();
    const headers = webhookHeaders(delivery.secrets, delivery.eventId, Math.floor(startedAt.getTime() / 1000), delivery.body);
    const result = await sendWebhook({
      url: delivery.url,
      body: delivery.body,
      headers,
      policy: options.policy,
      connectTimeoutMs: own.JUNCTION_NOTIFICATIONS_CONNECT_TIMEOUT_MS,
      timeoutMs: own.JUNCTION_NOTIFICATIONS_ATTEMPT_TIMEOUT_MS,
      maxResponseBytes: own.JUNCTION_NOTIFICATIONS_MAX_RESPONSE_BYTES,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    const ok = result.kind === 'answered' && result.status >= 200 && result.status < 300;
    gate.finished(delivery.subscriptionId, ok);
    refill(delivery.subscriptionId);
    const record = attemptRecord(startedAt, result);
    const settlement: Settlement = ok ? { status: 'delivered' } : settlementAfter(delivery, new Date());
    if (await recordAttempt({ delivery, record, settlement })) {
      options.metrics.attempt(ok ? 'delivered' : settlement.status === 'pending' ? 'retried' : 'abandoned', record.durationMs);
    }
  };

  /** An attempt's outcome, waiting to be recorded with the others that ended meanwhile. */
  interface Outcome {
    delivery: ClaimedDelivery;
    record: AttemptRecord;
    settlement: Settlement;
  }
  const waiting: Array<Outcome & { done: (settled: boolean) => void }> = [];
  let committing = false;

  /**
   * Records an attempt and settles its delivery with its WebhookDelivered or WebhookFailed event;
   * true when it was settled (false: its lease had run out and another attempt took it, or the
   * transaction failed). The attempts that end while a transaction commits go in the next one,
   * together: a subscription's outcome events share a key, whose outbox lock makes each
   * commit wait for the one before, so one transaction per attempt would cap an endpoint at
   * one commit's worth of deliveries.
   */
  const recordAttempt = (outcome: Outcome) =>
    new Promise<boolean>((done) => {
      waiting.push({ ...outcome, done });
      commitWaiting();
    });

  const commitWaiting = () => {
    if (committing || waiting.length === 0) return;
    committing = true;
    // In one order of keys in every process, so that two replicas' transactions never wait on each other's locks in a cycle.
    const batch = waiting
      .splice(0, SETTLE_BATCH)
      .sort(
        (x, y) =>
          x.delivery.subscriptionId.localeCompare(y.delivery.subscriptionId) || x.delivery.deliveryId.localeCompare(y.delivery.deliveryId),
      );
    void settleAll(batch)
      .then(
        (settled) => {
          batch.forEach((item, i) => {
            item.done(settled[i] === true);
          });
        },
        (error: Error) => {
          // The leases run out and the deliveries are tried again: at least once, never lost.
          service.logger.error(`could not record ${batch.length} webhook attempts: ${error.message}`, {
            deliveryIds: batch.map((item) => item.delivery.deliveryId),
          });
          for (const item of batch) item.done(false);
        },
      )
      .finally(() => {
        committing = false;
        // Once per endpoint: a batch holds many attempts of a busy one.
        for (const id of new Set(batch.map((item) => item.delivery.subscriptionId))) refill(id);
        commitWaiting();
      });
  };

  const settleAll = (batch: readonly Outcome[]) =>
    service.transaction(async (tx) => {
      const settled: boolean[] = [];
      for (const { delivery, record, settlement } of batch) {
        const { settled: recorded, disabled } = await settle(tx, delivery, record, settlement, failureClock);
        settled.push(recorded);
        if (!recorded) continue;
        if (disabled)
          service.logger.warn(`webhook subscription ${delivery.subscriptionId} disabled: every attempt failed for too long`, {
            subscriptionId: delivery.subscriptionId,
            url: delivery.url,
            error: record.error,
          });
        await service.outbox.add(tx, outcomeEvent(delivery, record, settlement));
      }
      return settled;
    });

  const settlementAfter = (delivery: ClaimedDelivery, now: Date): Settlement => {
    const next = afterFailure(schedule, delivery.roundAttempt, delivery.roundStartedAt, now);
    return 'retryAt' in next ? { status: 'pending', retryAt: next.retryAt } : { status: 'failed' };
  };

  const loop = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = round()
      .catch((error: Error) => {
        service.logger.warn(`the webhook dispatcher's round failed: ${error.message}`, { error: error.message });
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          loop();
        }
      });
  };
  const wake = (subscriptions?: readonly string[]) => {
    if (!subscriptions) return loop();
    for (const id of new Set(subscriptions)) refill(id);
  };

  return {
    name: 'dispatcher',
    wake,
    reset: (id) => gate.reset(id),
    async start() {
      stopped = false;
      timer = setInterval(loop, own.JUNCTION_NOTIFICATIONS_POLL_MS);
      timer.unref();
      loop();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      // Claims and attempts in flight end within their deadline and are recorded; the relay,
      // stopped after this, still publishes their outcomes. (An attempt's refill after stop
      // claims nothing.)
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      gate.close();
    },
  };
}

function attemptRecord(startedAt: Date, result: SendResult): AttemptRecord {
  if (result.kind === 'answered') {
    const ok = result.status >= 200 && result.status < 300;
    return {
      startedAt,
      durationMs: Math.round(result.durationMs),
      statusCode: result.status,
      error: ok ? null : `the endpoint answered ${result.status}`,
      responseBody: result.body.slice(0, LOGGED_BODY_CHARS),
    };
  }
  return { startedAt, durationMs: Math.round(result.durationMs), statusCode: null, error: result.error, responseBody: null };
}

/** WebhookDelivered, or WebhookFailed saying when the next attempt comes (null: given up). */
function outcomeEvent(delivery: ClaimedDelivery, record: AttemptRecord, settlement: Settlement) {
  const endedAt = new Date(record.startedAt.getTime() + record.durationMs);
  const common = {
    deliveryId: delivery.deliveryId,
    subscriptionId: delivery.subscriptionId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    url: delivery.url,
  };
  if (settlement.status === 'delivered') {
    return {
      type: 'com.junction.notifications.WebhookDelivered',
      data: {
        ...common,
        statusCode: record.statusCode ?? 0,
        attempt: delivery.attempt,
        durationMs: record.durationMs,
        deliveredAt: endedAt,
      },
    };
  }
  return {
    type: 'com.junction.notifications.WebhookFailed',
    data: {
      ...common,
      statusCode: record.statusCode,
      error: record.error ?? 'failed',
      attempts: delivery.attempt,
      nextAttemptAt: settlement.status === 'pending' ? settlement.retryAt : null,
      failedAt: endedAt,
    },
  };
}
