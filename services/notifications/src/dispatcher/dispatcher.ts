import type { ServiceContext, WebhookMetrics, Worker } from '@junction/service';
import type { NotificationsConfig } from '../config.ts';
import type { AddressPolicy } from '../delivery/address-policy.ts';
import { type SendResult, sendWebhook } from '../delivery/sender.ts';
import { webhookHeaders } from '../delivery/signing.ts';
import { type AttemptRecord, type ClaimedDelivery, claimDeliveries, endpointsWithDueWork, type Settlement, settle } from './deliveries.ts';
import { createEndpointGate } from './endpoint-gate.ts';
import { afterFailure, type RetrySchedule } from './schedule.ts';

/** What the attempt log keeps of an endpoint's answer. */
const LOGGED_BODY_CHARS = 1024;

/** Endpoints looked at in one round; more wait for the next. */
const ENDPOINTS_PER_ROUND = 500;

/** The dispatcher: a worker of the kit that can be woken when deliveries became due. */
export interface Dispatcher extends Worker {
  /** Look for due deliveries now (a fan-out committed, a replay, an endpoint enabled again). */
  wake(): void;
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
 * Sends due deliveries to their endpoints. Each round asks the endpoint gate how many each
 * endpoint with due work may take (its own slots, rate and breaker, so a dead endpoint only ever
 * holds its own), claims that many in one statement, and sends them without waiting for one
 * another. Each attempt is signed with every valid secret, recorded, and settled with its
 * WebhookDelivered or WebhookFailed event in one transaction. Runs a round when woken, when an
 * attempt ends, and every poll interval; one round at a time.
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
  // Long enough for an attempt and its settling; an attempt cut short by a crash is retried after it.
  const leaseMs = own.JUNCTION_NOTIFICATIONS_CONNECT_TIMEOUT_MS + own.JUNCTION_NOTIFICATIONS_ATTEMPT_TIMEOUT_MS + 30_000;
  const gate = createEndpointGate({
    concurrency: own.JUNCTION_NOTIFICATIONS_ENDPOINT_CONCURRENCY,
    ratePerSecond: own.JUNCTION_NOTIFICATIONS_ENDPOINT_RATE,
    breakerFailures: own.JUNCTION_NOTIFICATIONS_BREAKER_FAILURES,
    breakerOpenMs: own.JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS,
    onProbe: () => wake(),
  });
  const attempts = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  const round = async () => {
    const room = own.JUNCTION_NOTIFICATIONS_CONCURRENCY - gate.inFlight();
    if (room <= 0) return;
    const endpoints = await endpointsWithDueWork(service.db, ENDPOINTS_PER_ROUND);
    const ids: string[] = [];
    const slots: number[] = [];
    let left = room;
    for (const id of endpoints) {
      let taken = 0;
      // Slots are taken before the claim, so what the claim returns may always be sent.
      while (taken < Math.min(gate.slots(id), left) && gate.start(id)) taken += 1;
      if (taken === 0) continue;
      ids.push(id);
      slots.push(taken);
      left -= taken;
      if (left === 0) break;
    }
    if (ids.length === 0) return;
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await claimDeliveries(service.db, ids, slots, leaseMs);
    } finally {
      // Slots the claim did not fill (another replica took those deliveries) go back unused.
      const used = new Map<string, number>();
      for (const d of claimed) used.set(d.subscriptionId, (used.get(d.subscriptionId) ?? 0) + 1);
      ids.forEach((id, i) => {
        for (let n = used.get(id) ?? 0; n < (slots[i] ?? 0); n += 1) gate.cancel(id);
      });
    }
    for (const delivery of claimed) {
      const attempt = send(delivery).finally(() => {
        attempts.delete(attempt);
        wake();
      });
      attempts.add(attempt);
    }
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
    const record = attemptRecord(startedAt, result);
    const settlement: Settlement = ok ? { status: 'delivered' } : settlementAfter(delivery, new Date());
    let settled = false;
    try {
      await service.transaction(async (tx) => {
        const { settled: recorded, disabled } = await settle(tx, delivery, record, settlement, own.JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS);
        if (!recorded) return;
        if (disabled)
          service.logger.warn(`webhook subscription ${delivery.subscriptionId} disabled: every attempt failed for too long`, {
            subscriptionId: delivery.subscriptionId,
            url: delivery.url,
            error: record.error,
          });
        await service.outbox.add(tx, outcomeEvent(delivery, record, settlement));
        settled = true;
      });
      if (settled) options.metrics.attempt(ok ? 'delivered' : settlement.status === 'pending' ? 'retried' : 'abandoned', record.durationMs);
    } catch (error) {
      // The lease runs out and the delivery is tried again: at least once, never lost.
      service.logger.error(`could not record the attempt of delivery ${delivery.deliveryId}: ${(error as Error).message}`, {
        deliveryId: delivery.deliveryId,
      });
    }
  };

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
  const wake = () => loop();

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
      // Attempts in flight end within their deadline and are recorded; the relay, stopped after
      // this, still publishes their outcomes.
      await Promise.allSettled([...attempts]);
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
