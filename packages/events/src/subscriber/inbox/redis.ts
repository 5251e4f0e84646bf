import { randomUUID } from 'node:crypto';
import { JunctionError } from '@junction/observability';
import { Redis } from 'ioredis';
import { type InboxKey, type InboxStore, inProgress } from './store.ts';

/** Options of {@link redisInbox}: `url` (the store opens and closes its own client) or `client`. */
export type RedisInboxOptions = ({ url: string; client?: undefined } | { client: Redis; url?: undefined }) & {
  /** Prefix of every key, e.g. `junction:inbox:`; the key is `<prefix><group>:<event id>`. */
  keyPrefix?: string;
  /**
   * How long a claim holds while its handler runs. A process that dies mid-handler leaves its
   * claim behind; after this it lapses and a redelivery runs. Default 60 s: longer than a handler's timeout.
   */
  leaseMs?: number;
  /** Bound of every command, with `url`. Default 2 s. */
  commandTimeoutMs?: number;
  /** Bound of connecting, with `url`. Default 2 s. */
  connectTimeoutMs?: number;
};

const DONE = 'done';

// Deletes the claim only if it is still ours: after a lease lapsed, it may be someone else's.
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * The inbox in Redis: `SET key NX PX` claims an event before its handler runs, a success marks
 * it done for the TTL, a failure deletes the claim so a retry can run. Safe for at-least-once
 * delivery, but NOT atomic with the handler's effects (only the PostgreSQL inbox is): a crash
 * between the effect and the mark, or a lapsed lease, lets a redelivery run the handler again.
 * Handlers it guards must still tolerate the rare repeat. Every command is bounded: a Redis
 * that does not answer fails the record with a retriable `inbox.unavailable` error. A `client`
 * passed in is used as it is: give it `commandTimeout` and a bounded `maxRetriesPerRequest`.
 */
export function redisInbox(options: RedisInboxOptions): InboxStore {
  const prefix = options.keyPrefix ?? 'junction:inbox:';
  const leaseMs = options.leaseMs ?? 60_000;
  const owned = options.client === undefined;
  const client =
    options.client ??
    new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
  // Connection errors also reach each command as its rejection; this only keeps them from
  // surfacing as an unhandled 'error' event.
  if (owned) client.on('error', () => {});
  const where = options.url ? new URL(options.url).host : 'the given client';

  const unavailable = (key: InboxKey, error: unknown) =>
    new JunctionError('inbox.unavailable', `Redis (${where}) did not answer for event ${key.eventId}: ${(error as Error).message}`, {
      cause: error,
      context: { group: key.group, eventId: key.eventId, store: 'redis' },
    });

  return {
    async run(key, work) {
      const redisKey = `${prefix}${key.group}:${key.eventId}`;
      const token = `pending:${randomUUID()}`;
      let claimed: string | null;
      let current: string | null = null;
      try {
        claimed = await client.set(redisKey, token, 'PX', leaseMs, 'NX');
        if (claimed === null) current = await client.get(redisKey);
      } catch (error) {
        throw unavailable(key, error);
      }
      if (claimed === null) {
        if (current === DONE) return 'duplicate';
        throw inProgress(key, 'redis');
      }
      try {
        await work(undefined);
      } catch (error) {
        // Best effort: if Redis is gone too, the lease lapses on its own.
        await client.eval(RELEASE, 1, redisKey, token).catch(() => {});
        throw error;
      }
      // The handler succeeded: failing now would only make a retry repeat it sooner. If the mark
      // is lost, the claim lapses after the lease and a redelivery may run again (at least once).
      await client.set(redisKey, DONE, 'PX', key.ttlMs).catch(() => {});
      return 'processed';
    },
    async close() {
      if (owned) client.disconnect();
    },
  };
}
