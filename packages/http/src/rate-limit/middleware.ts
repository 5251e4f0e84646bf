import { JunctionError } from '@junction/observability';
import type { Request, RequestHandler } from 'express';
import type { BucketPolicy } from './bucket.ts';
import type { RateLimitStore } from './store.ts';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends BucketPolicy {
  /** Where buckets live: `memoryRateLimitStore()` for one replica, `redisRateLimitStore()` for several. */
  store: RateLimitStore;
  /** The policy's name in the `RateLimit` headers. Default `client`. */
  name?: string;
  /** Whose bucket a request takes from; default the verified client, else the remote address. */
  key?: (req: Request) => string;
}

/** The bucket of a request: its OAuth client once authenticated, its address before. */
function defaultKey(req: Request): string {
  return req.auth ? `client:${req.auth.clientId}` : `ip:${req.ip ?? 'unknown'}`;
}

/**
 * A token bucket per client: `capacity` requests at once, refilled at `refillPerSecond`. Every
 * answer carries the IETF `RateLimit-Policy` and `RateLimit` headers (quota, remaining, seconds
 * to full); a request over the limit is a 429 problem with `Retry-After`, and takes no token.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { capacity, refillPerSecond } = options;
  const problems: string[] = [];
  if (!Number.isInteger(capacity) || capacity < 1) problems.push('capacity must be an integer ≥ 1');
  if (!(refillPerSecond > 0)) problems.push('refillPerSecond must be positive');
  if (problems.length) throw new JunctionError('config.invalid', `rateLimit options are not valid: ${problems.join('; ')}`);
  const name = options.name ?? 'client';
  const key = options.key ?? defaultKey;
  const policy: BucketPolicy = { capacity, refillPerSecond };
  const windowSec = Math.max(1, Math.ceil(capacity / refillPerSecond));
  const policyHeader = `"${name}";q=${capacity};w=${windowSec}`;

  return function junctionRateLimit(req, res, next) {
    options.store.take(key(req), policy).then((verdict) => {
      const state = `"${name}";r=${verdict.remaining};t=${Math.ceil(verdict.resetMs / 1000)}`;
      res.setHeader('RateLimit-Policy', policyHeader);
      res.setHeader('RateLimit', state);
      if (verdict.allowed) {
        next();
        return;
      }
      const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      next(
        new JunctionError(
          'rate.limited',
          `more than ${capacity} requests at once; the limit refills ${refillPerSecond}/s, so try again in ${retryAfter} s`,
          {
            context: {
              retryAfterMs: verdict.retryAfterMs,
              headers: { 'retry-after': String(retryAfter), 'ratelimit-policy': policyHeader, ratelimit: state },
            },
          },
        ),
      );
    }, next);
  };
}
