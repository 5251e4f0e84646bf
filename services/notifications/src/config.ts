import { z } from 'zod';

const ms = (fallback: number, max = 30 * 24 * 3600_000) => z.coerce.number().int().min(0).max(max).default(fallback);
const count = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** CIDRs, comma-separated: `127.0.0.1/32,10.1.0.0/16`; a bare address is its own /32 or /128. */
const cidrs = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => (part.includes('/') ? part : `${part}/${part.includes(':') ? 128 : 32}`)),
  );

const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

const HOUR = 3600_000;

/**
 * The notifications service's own settings. The defaults are production's: attempts spread over
 * a day and a half (5 s, then ×4 up to 10 h), an endpoint disabled after failing for 5 days.
 * Tests set milliseconds.
 */
export const notificationsConfig = z.object({
  /** Addresses webhooks may reach though they are not public (loopback, private): none by default. */
  JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES: cidrs,
  /** Whether endpoints may be plain `http:` URLs (the local stack); `https:` only by default. */
  JUNCTION_NOTIFICATIONS_ALLOW_HTTP: flag,
  /** A CA file trusted besides the system's for `https:` endpoints (the local stack's CA). */
  JUNCTION_NOTIFICATIONS_CA_FILE: z.string().min(1).optional(),
  JUNCTION_NOTIFICATIONS_RETRY_INITIAL_MS: ms(5000),
  JUNCTION_NOTIFICATIONS_RETRY_MULTIPLIER: z.coerce.number().min(1).max(100).default(4),
  JUNCTION_NOTIFICATIONS_RETRY_MAX_MS: ms(10 * HOUR),
  /** ±this fraction of each delay, so endpoints that failed together are not retried together. */
  JUNCTION_NOTIFICATIONS_RETRY_JITTER: z.coerce.number().min(0).max(1).default(0.2),
  /** Attempts of one delivery before it is given up. */
  JUNCTION_NOTIFICATIONS_MAX_ATTEMPTS: count(10, 100),
  /** Age after which a delivery is given up, whatever its attempts. */
  JUNCTION_NOTIFICATIONS_MAX_AGE_MS: ms(3 * 24 * HOUR),
  /** An endpoint whose every attempt failed for this long is disabled. */
  JUNCTION_NOTIFICATIONS_DISABLE_AFTER_MS: ms(5 * 24 * HOUR),
  JUNCTION_NOTIFICATIONS_CONNECT_TIMEOUT_MS: count(5000, 60_000),
  /** One attempt, from connecting until the response (up to its cap) is read. */
  JUNCTION_NOTIFICATIONS_ATTEMPT_TIMEOUT_MS: count(15_000, 120_000),
  /** Response bodies are read up to this many bytes; the attempt log keeps the first 1 KiB. */
  JUNCTION_NOTIFICATIONS_MAX_RESPONSE_BYTES: count(64 * 1024, 1024 * 1024),
  /** Requests in flight to one endpoint at once. */
  JUNCTION_NOTIFICATIONS_ENDPOINT_CONCURRENCY: count(4, 64),
  /** Requests per second to one endpoint. */
  JUNCTION_NOTIFICATIONS_ENDPOINT_RATE: count(50, 10_000),
  /** Requests in flight from this process, all endpoints together. */
  JUNCTION_NOTIFICATIONS_CONCURRENCY: count(64, 1024),
  /** Consecutive failed attempts that open an endpoint's breaker (its deliveries wait, others go on). */
  JUNCTION_NOTIFICATIONS_BREAKER_FAILURES: count(5, 1000),
  JUNCTION_NOTIFICATIONS_BREAKER_OPEN_MS: ms(30_000),
  /** How long a rotated-out signing secret still signs, beside the new one. */
  JUNCTION_NOTIFICATIONS_SECRET_OVERLAP_MS: ms(24 * HOUR),
  /** How often the dispatcher looks for due deliveries when nothing woke it. */
  JUNCTION_NOTIFICATIONS_POLL_MS: count(500, 60_000),
  /** Subscriptions one client may hold. */
  JUNCTION_NOTIFICATIONS_MAX_SUBSCRIPTIONS: count(100, 10_000),
});

/** The notifications service's settings, as read. */
export type NotificationsConfig = z.infer<typeof notificationsConfig>;
