import type { Queryable } from '@junction/service';

/** A subscription as its owner sees it. */
export interface SubscriptionView {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  ordered: boolean;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  /** Whether personal fields reach it in clear (its owner holds the PII scope); masked otherwise. */
  personalData: boolean;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

interface SubscriptionRow {
  subscription_id: string;
  url: string;
  event_types: string[];
  description: string | null;
  ordered: boolean;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  pii: boolean;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'subscription_id, url, event_types, description, ordered, status, disabled_reason, pii, failing_since, created_at, updated_at';

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

function view(row: SubscriptionRow): SubscriptionView {
  return {
    id: row.subscription_id,
    url: row.url,
    eventTypes: row.event_types,
    description: row.description,
    ordered: row.ordered,
    status: row.status,
    disabledReason: row.disabled_reason,
    personalData: row.pii,
    failingSince: iso(row.failing_since),
    createdAt: iso(row.created_at) ?? '',
    updatedAt: iso(row.updated_at) ?? '',
  };
}

/** What a new subscription is made of. */
export interface NewSubscription {
  id: string;
  owner: string;
  url: string;
  eventTypes: string[];
  description?: string | undefined;
  ordered: boolean;
  pii: boolean;
  secret: string;
}

/** How many subscriptions `owner` holds. */
export async function countOwned(db: Queryable, owner: string): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM subscriptions WHERE owner = $1', [owner]);
  return (rows[0] as { n: number }).n;
}

/** Stores a subscription and its first secret. */
export async function insertSubscription(tx: Queryable, s: NewSubscription): Promise<SubscriptionView> {
  const { rows } = await tx.query(
    `INSERT INTO subscriptions (subscription_id, owner, url, event_types, description, ordered, pii)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [s.id, s.owner, s.url, s.eventTypes, s.description ?? null, s.ordered, s.pii],
  );
  await tx.query('INSERT INTO subscription_secrets (subscription_id, secret) VALUES ($1, $2)', [s.id, s.secret]);
  return view(rows[0] as SubscriptionRow);
}

/** `owner`'s subscriptions, oldest first. */
export async function listOwned(db: Queryable, owner: string): Promise<SubscriptionView[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM subscriptions WHERE owner = $1 ORDER BY created_at, subscription_id`, [owner]);
  return (rows as SubscriptionRow[]).map(view);
}

/** One of `owner`'s subscriptions; undefined for another owner's, as for none (its existence is not told). */
export async function readOwned(db: Queryable, owner: string, id: string, lock = false): Promise<SubscriptionView | undefined> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM subscriptions WHERE subscription_id = $1 AND owner = $2${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [id, owner],
  );
  const row = rows[0] as SubscriptionRow | undefined;
  return row ? view(row) : undefined;
}

/** What an update changes; a field left out stays. */
export interface SubscriptionChange {
  url?: string | undefined;
  eventTypes?: string[] | undefined;
  description?: string | null | undefined;
  ordered?: boolean | undefined;
  /** true: active again, its breaker and failure clock reset; false: disabled by its owner. */
  enabled?: boolean | undefined;
  /** Whether its owner holds the PII scope (the token of this change says). */
  pii: boolean;
}

/** Applies `change` to one of `owner`'s subscriptions; undefined when there is none. */
export async function updateOwned(
  tx: Queryable,
  owner: string,
  id: string,
  change: SubscriptionChange,
): Promise<SubscriptionView | undefined> {
  const { rows } = await tx.query(
    `UPDATE subscriptions SET
       url = COALESCE($3, url),
       event_types = COALESCE($4, event_types),
       description = CASE WHEN $5 THEN $6 ELSE description END,
       ordered = COALESCE($7, ordered),
       pii = $9,
       status = CASE WHEN $8::boolean IS NULL THEN status WHEN $8 THEN 'active' ELSE 'disabled' END,
       disabled_reason = CASE WHEN $8::boolean IS NULL THEN disabled_reason WHEN $8 THEN NULL ELSE 'disabled by its owner' END,
       disabled_by = CASE WHEN $8::boolean IS NULL THEN disabled_by WHEN $8 THEN NULL ELSE 'owner' END,
       failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END,
       updated_at = now()
     WHERE subscription_id = $1 AND owner = $2 RETURNING ${COLUMNS}`,
    [
      id,
      owner,
      change.url ?? null,
      change.eventTypes ?? null,
      change.description !== undefined,
      change.description ?? null,
      change.ordered ?? null,
      change.enabled ?? null,
      change.pii,
    ],
  );
  const row = rows[0] as SubscriptionRow | undefined;
  return row ? view(row) : undefined;
}

/** Deletes one of `owner`'s subscriptions with its secrets, deliveries and attempts; whether there was one. */
export async function deleteOwned(db: Queryable, owner: string, id: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM subscriptions WHERE subscription_id = $1 AND owner = $2 RETURNING 1', [id, owner]);
  return rows.length > 0;
}

/**
 * Makes `secret` the subscription's signing secret. The one it replaces keeps signing beside it
 * until `overlapMs` from now; any older one ends now. Returns when the previous one expires.
 */
export async function rotateSecret(tx: Queryable, id: string, secret: string, overlapMs: number): Promise<string | null> {
  await tx.query('UPDATE subscription_secrets SET expires_at = now() WHERE subscription_id = $1 AND expires_at > now()', [id]);
  const { rows } = await tx.query(
    `UPDATE subscription_secrets SET expires_at = now() + $2::float8 * interval '1 millisecond'
      WHERE subscription_id = $1 AND expires_at IS NULL RETURNING expires_at`,
    [id, overlapMs],
  );
  // A rotation within the same microsecond as the last would collide on the key; clock_timestamp moves on.
  await tx.query('INSERT INTO subscription_secrets (subscription_id, secret, created_at) VALUES ($1, $2, clock_timestamp())', [id, secret]);
  const previous = rows[0] as { expires_at: Date } | undefined;
  return previous ? iso(previous.expires_at) : null;
}

/** One attempt, as `GET …/attempts` shows it. */
export interface AttemptView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  deliveryStatus: 'pending' | 'delivered' | 'failed';
}

/** The latest `limit` attempts to a subscription, newest first. */
export async function listAttempts(db: Queryable, id: string, limit: number): Promise<AttemptView[]> {
  const { rows } = await db.query(
    `SELECT a.delivery_id, d.event_id, e.event_type, a.attempt, a.started_at, a.duration_ms, a.status_code, a.error, a.response_body, d.status
       FROM delivery_attempts a JOIN deliveries d USING (delivery_id) JOIN webhook_events e ON e.event_id = d.event_id
      WHERE a.subscription_id = $1 ORDER BY a.started_at DESC, a.attempt DESC LIMIT $2`,
    [id, limit],
  );
  return (rows as Array<Record<string, unknown>>).map((r) => ({
    deliveryId: String(r.delivery_id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    attempt: Number(r.attempt),
    startedAt: iso(r.started_at as Date) ?? '',
    durationMs: Number(r.duration_ms),
    statusCode: r.status_code === null ? null : Number(r.status_code),
    error: (r.error as string | null) ?? null,
    responseBody: (r.response_body as string | null) ?? null,
    deliveryStatus: r.status as AttemptView['deliveryStatus'],
  }));
}

/**
 * Sends a subscription's deliveries again: one event's, or those of events made within a time
 * range, whatever became of them. They keep their ids (a receiver deduplicates on `webhook-id`)
 * and are due at once. Returns how many.
 */
export async function replay(tx: Queryable, id: string, what: { eventId: string } | { since: Date; until: Date }): Promise<number> {
  const filter = 'eventId' in what ? 'd.event_id = $2' : 'e.created_at >= $2 AND e.created_at < $3';
  const params = 'eventId' in what ? [id, what.eventId] : [id, what.since, what.until];
  const { rows } = await tx.query(
    `UPDATE deliveries d SET status = 'pending', next_attempt_at = now(), finished_at = NULL, leased_until = NULL,
            round_attempts = 0, round_started_at = now()
       FROM webhook_events e
      WHERE e.event_id = d.event_id AND d.subscription_id = $1 AND ${filter}
      RETURNING 1`,
    params,
  );
  return rows.length;
}

/** The webhooks' state for the metrics: subscriptions by state, and each backlog (the 500 largest). */
export async function webhookSnapshot(db: Queryable) {
  const { rows: states } = await db.query(
    `SELECT count(*) FILTER (WHERE status = 'active' AND failing_since IS NULL)::int AS active,
            count(*) FILTER (WHERE status = 'active' AND failing_since IS NOT NULL)::int AS failing,
            count(*) FILTER (WHERE status = 'disabled' AND disabled_by = 'failures')::int AS disabled_by_failures,
            count(*) FILTER (WHERE status = 'disabled' AND disabled_by IS DISTINCT FROM 'failures')::int AS disabled_by_owner
       FROM subscriptions`,
  );
  const { rows: backlog } = await db.query(
    `SELECT subscription_id, count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM deliveries WHERE status = 'pending' GROUP BY subscription_id ORDER BY pending DESC LIMIT 500`,
  );
  const s = states[0] as Record<string, number>;
  return {
    endpoints: {
      active: s.active ?? 0,
      failing: s.failing ?? 0,
      disabled_by_failures: s.disabled_by_failures ?? 0,
      disabled_by_owner: s.disabled_by_owner ?? 0,
    },
    backlog: (backlog as Array<{ subscription_id: string; pending: number; oldest: number }>).map((b) => ({
      subscriptionId: b.subscription_id,
      pending: Number(b.pending),
      oldestSeconds: Number(b.oldest),
    })),
  };
}
