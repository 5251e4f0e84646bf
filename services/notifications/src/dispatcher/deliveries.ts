import type { Queryable } from '@junction/service';

/** A delivery claimed for one attempt, with what it takes to send it. */
export interface ClaimedDelivery {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  /** This attempt's number, from 1, over every round. */
  attempt: number;
  /** This attempt's number within its round (a replay starts a new one). */
  roundAttempt: number;
  roundStartedAt: Date;
  url: string;
  /** The CloudEvents JSON, whole or with personal fields masked, as the subscription may see it. */
  body: string;
  /** Secrets that sign it: the current one first, then one still within its rotation's overlap. */
  secrets: string[];
}

/**
 * Active subscriptions with a delivery due and not held by a dispatcher, leaving out `skip` (the
 * endpoints that could take nothing now: at their bounds, or their breaker open). Each
 * subscription's look stops at its first due delivery, so an endpoint's backlog costs little.
 */
export async function endpointsWithDueWork(db: Queryable, limit: number, skip: readonly string[] = []): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT s.subscription_id FROM subscriptions s
      WHERE s.status = 'active' AND s.subscription_id <> ALL($2::uuid[])
        AND EXISTS (SELECT 1 FROM deliveries d
                     WHERE d.subscription_id = s.subscription_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                       AND (d.leased_until IS NULL OR d.leased_until < now()))
      LIMIT $1`,
    [limit, skip],
  );
  return (rows as Array<{ subscription_id: string }>).map((r) => r.subscription_id);
}

/**
 * Claims up to `slots[i]` due deliveries of `endpoints[i]`, oldest first, and holds them for
 * `leaseMs` (a dispatcher that dies lets them go when it passes). Of an ordered subscription, a
 * delivery is due only when no earlier one of its key is still pending, so a key's events go one
 * at a time, in order, while other keys go on. Counts the attempt now: one cut short by a crash
 * still counts.
 */
export async function claimDeliveries(db: Queryable, endpoints: readonly string[], slots: readonly number[], leaseMs: number) {
  const { rows } = await db.query(
    `WITH wanted AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS w(subscription_id, slots)),
     picked AS (
       SELECT p.delivery_id FROM wanted w CROSS JOIN LATERAL (
         SELECT d.delivery_id FROM deliveries d JOIN subscriptions s ON s.subscription_id = d.subscription_id
          WHERE d.subscription_id = w.subscription_id AND d.status = 'pending' AND d.next_attempt_at <= now()
            AND (d.leased_until IS NULL OR d.leased_until < now()) AND s.status = 'active'
            AND (NOT s.ordered OR NOT EXISTS (
                  SELECT 1 FROM deliveries e WHERE e.subscription_id = d.subscription_id AND e.key = d.key
                     AND e.status = 'pending' AND e.seq < d.seq))
          ORDER BY d.seq LIMIT w.slots FOR NO KEY UPDATE OF d SKIP LOCKED) p)
     UPDATE deliveries d
        SET leased_until = now() + $3::float8 * interval '1 millisecond', attempts = d.attempts + 1, round_attempts = d.round_attempts + 1
       FROM subscriptions s, webhook_events e
      -- As an array, not a join: the planner cannot tell how few rows a LIMIT of w.slots leaves,
      -- and a join made it hash the whole table for every claim.
      WHERE d.delivery_id = ANY (ARRAY(SELECT delivery_id FROM picked)) AND s.subscription_id = d.subscription_id
        AND e.event_id = d.event_id
      RETURNING d.delivery_id, d.subscription_id, d.event_id, e.event_type, d.attempts, d.round_attempts, d.round_started_at, s.url,
                CASE WHEN s.pii THEN e.body ELSE e.masked_body END AS body,
                ARRAY(SELECT k.secret FROM subscription_secrets k
                       WHERE k.subscription_id = d.subscription_id AND (k.expires_at IS NULL OR k.expires_at > now())
                       ORDER BY k.created_at DESC) AS secrets`,
    [endpoints, slots, leaseMs],
  );
  return (rows as Array<Record<string, unknown>>).map(
    (r): ClaimedDelivery => ({
      deliveryId: String(r.delivery_id),
      subscriptionId: String(r.subscription_id),
      eventId: String(r.event_id),
      eventType: String(r.event_type),
      attempt: Number(r.attempts),
      roundAttempt: Number(r.round_attempts),
      roundStartedAt: new Date(r.round_started_at as Date),
      url: String(r.url),
      body: String(r.body),
      secrets: r.secrets as string[],
    }),
  );
}

/** What one attempt came to, as recorded. */
export interface AttemptRecord {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** The answer's first 1 KiB. */
  responseBody: string | null;
}

/** How a delivery stands after an attempt. */
export type Settlement = { status: 'delivered' } | { status: 'pending'; retryAt: Date } | { status: 'failed' };

/** How the endpoint's failure clock runs. */
export interface FailureClock {
  /** An endpoint whose every attempt failed for this long is disabled. */
  disableAfterMs: number;
  /**
   * A pause between two failed attempts longer than this means nobody was trying (the dispatcher
   * was down): the clock starts again at the later failure. Longer than any wait between
   * attempts (the retry cap, an open breaker).
   */
  pauseMs: number;
}

/**
 * Records an attempt and settles its delivery, unless the delivery moved on meanwhile (its lease
 * ran out and another attempt took it: false then, and nothing is written). Tracks the
 * endpoint's health: a success clears its failure clock; a failure starts it (or starts it again
 * after a pause, see {@link FailureClock}), and disables the endpoint once it has run for
 * `disableAfterMs`. Returns whether it was settled, and whether the endpoint was disabled by this attempt.
 */
export async function settle(
  tx: Queryable,
  delivery: ClaimedDelivery,
  attempt: AttemptRecord,
  settlement: Settlement,
  clock: FailureClock,
): Promise<{ settled: boolean; disabled: boolean }> {
  // The subscription first, then the delivery: the order of the API's replay and updates, so
  // that neither waits on the other in a cycle. NO KEY UPDATE, not UPDATE: a fan-out inserting
  // deliveries holds KEY SHARE on the subscription (the foreign key) and must not wait for this.
  const delivered = settlement.status === 'delivered';
  let was: string | undefined;
  if (delivered) {
    await tx.query('UPDATE subscriptions SET failing_since = NULL WHERE subscription_id = $1 AND failing_since IS NOT NULL', [
      delivery.subscriptionId,
    ]);
  } else {
    const { rows: before } = await tx.query('SELECT status FROM subscriptions WHERE subscription_id = $1 FOR NO KEY UPDATE', [
      delivery.subscriptionId,
    ]);
    was = (before[0] as { status: string } | undefined)?.status;
  }
  const finished = settlement.status !== 'pending';
  const { rows } = await tx.query(
    `UPDATE deliveries SET status = $3, leased_until = NULL, next_attempt_at = COALESCE($4, next_attempt_at),
            finished_at = CASE WHEN $5 THEN now() ELSE NULL END, last_error = $6
      WHERE delivery_id = $1 AND attempts = $2 AND status = 'pending' RETURNING 1`,
    [
      delivery.deliveryId,
      delivery.attempt,
      settlement.status,
      settlement.status === 'pending' ? settlement.retryAt : null,
      finished,
      attempt.error,
    ],
  );
  if (rows.length === 0) return { settled: false, disabled: false };
  await tx.query(
    `INSERT INTO delivery_attempts (delivery_id, attempt, subscription_id, started_at, duration_ms, status_code, error, response_body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [
      delivery.deliveryId,
      delivery.attempt,
      delivery.subscriptionId,
      attempt.startedAt,
      attempt.durationMs,
      attempt.statusCode,
      attempt.error,
      attempt.responseBody,
    ],
  );
  if (delivered) return { settled: true, disabled: false };
  // The clock's start: kept while failures follow each other, this failure's start after a pause.
  const { rows: health } = await tx.query(
    `WITH clock AS (
       SELECT CASE WHEN failing_since IS NULL OR last_failure_at IS NULL
                     OR $2::timestamptz - last_failure_at > $6::float8 * interval '1 millisecond'
                   THEN $2::timestamptz ELSE failing_since END AS since
         FROM subscriptions WHERE subscription_id = $1
     ), verdict AS (
       SELECT since, $3::timestamptz - since >= $4::float8 * interval '1 millisecond' AS expired FROM clock
     )
     UPDATE subscriptions s SET
        failing_since = verdict.since,
        last_failure_at = GREATEST(s.last_failure_at, $3::timestamptz),
        status = CASE WHEN s.status = 'active' AND verdict.expired THEN 'disabled' ELSE s.status END,
        disabled_reason = CASE WHEN s.status = 'active' AND verdict.expired
                               THEN 'every attempt failed for ' || $4 || ' ms; last: ' || $5 ELSE s.disabled_reason END,
        disabled_by = CASE WHEN s.status = 'active' AND verdict.expired THEN 'failures' ELSE s.disabled_by END,
        updated_at = now()
       FROM verdict
      WHERE s.subscription_id = $1
      RETURNING s.status`,
    [
      delivery.subscriptionId,
      attempt.startedAt,
      new Date(attempt.startedAt.getTime() + attempt.durationMs),
      clock.disableAfterMs,
      attempt.error ?? '',
      clock.pauseMs,
    ],
  );
  const now = (health[0] as { status: string } | undefined)?.status;
  return { settled: true, disabled: was === 'active' && now === 'disabled' };
}
