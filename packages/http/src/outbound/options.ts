import { type BackoffOptions, type CircuitState, JunctionError } from '@junction/observability';
import { z } from 'zod';

/** What may be set per call, over the upstream's settings. */
export interface CallOptions {
  /** The overall deadline of a call: every attempt, every backoff wait and the response body. Default 10 s. */
  timeoutMs?: number;
  /** Per attempt: how long the response headers may take once the request is sent. Default 5 s. */
  headersTimeoutMs?: number;
  /** Per attempt: the longest silence between two chunks of the response body. Default 10 s. */
  bodyTimeoutMs?: number;
  /** Retries after the first attempt (idempotent requests only). Default 2. */
  retries?: number;
  /** Backoff between attempts. Default 100 ms × 2^n, at most 2 s, ±20 %. */
  backoff?: BackoffOptions;
  /** A `Retry-After` longer than this is not waited for: the answer (429) or error (503) is final. Default 5 s. */
  maxRetryAfterMs?: number;
}

/** A breaker per upstream: `failureThreshold` failed attempts (refused, reset, timed out, 502/503/504) open it. */
export interface BreakerOptions {
  failureThreshold: number;
  /** Count failures in a sliding window of this length instead of consecutive ones. */
  windowMs?: number;
  openMs: number;
  halfOpenProbes?: number;
}

/** Settings of one upstream (an origin): those of every call to it, and its connections. */
export interface UpstreamOptions extends CallOptions {
  /** TCP (and TLS) connect timeout; per upstream, since connections are pooled and shared. Default 2 s. */
  connectTimeoutMs?: number;
  /** Connections kept to the upstream at most. Default 16. */
  connections?: number;
  /** Calls in flight or queued for a connection at most; beyond it a call fails fast as `upstream.unavailable`. Default 256. */
  maxPending?: number;
  /** Response bodies larger than this fail as `upstream.unavailable`. Default 8 MiB. */
  maxResponseBytes?: number;
  /** The circuit breaker, or false for none. Default 5 consecutive failures, open 10 s. */
  breaker?: BreakerOptions | false;
}

/** Options of `createHttpClient`. */
export interface HttpClientOptions {
  /** Settings of every upstream not named in `upstreams`, and under those that are. */
  defaults?: UpstreamOptions;
  /** Settings per origin (`http://127.0.0.1:8101`), over `defaults`. */
  upstreams?: Record<string, UpstreamOptions>;
  /** Told of every change of an upstream's breaker (to log it, say). */
  onCircuitChange?: (upstream: string, state: CircuitState, previous: CircuitState) => void;
}

/** Every setting of an upstream, defaults filled in. */
export type ResolvedUpstream = Required<Omit<UpstreamOptions, 'breaker'>> & { breaker: BreakerOptions | false };

/** The settings an upstream has unless told otherwise. */
export const DEFAULT_UPSTREAM: ResolvedUpstream = {
  timeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 10_000,
  retries: 2,
  backoff: { initialMs: 100, multiplier: 2, maxMs: 2_000, jitter: 0.2 },
  maxRetryAfterMs: 5_000,
  connectTimeoutMs: 2_000,
  connections: 16,
  maxPending: 256,
  maxResponseBytes: 8 * 1024 * 1024,
  breaker: { failureThreshold: 5, openMs: 10_000 },
};

const ms = z.number().int().positive();
const backoff = z
  .object({ initialMs: ms, multiplier: z.number().min(1), maxMs: ms, jitter: z.number().min(0).max(1) })
  .strict()
  .refine((b) => b.maxMs >= b.initialMs, { message: 'maxMs must be at least initialMs' });
const callShape = {
  timeoutMs: ms.optional(),
  headersTimeoutMs: ms.optional(),
  bodyTimeoutMs: ms.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoff: backoff.optional(),
  maxRetryAfterMs: z.number().int().min(0).optional(),
};
/** The zod schema of {@link BreakerOptions}, for config files that name one (the gateway's route table). */
export const breakerSchema = z
  .object({
    failureThreshold: z.number().int().min(1),
    windowMs: ms.optional(),
    openMs: ms,
    halfOpenProbes: z.number().int().min(1).optional(),
  })
  .strict();
const upstreamSchema = z
  .object({
    ...callShape,
    connectTimeoutMs: ms.optional(),
    connections: z.number().int().min(1).max(1024).optional(),
    maxPending: z.number().int().min(1).optional(),
    maxResponseBytes: z.number().int().positive().optional(),
    breaker: z.union([breakerSchema, z.literal(false)]).optional(),
  })
  .strict();
const callSchema = z.object(callShape).strict();
const origin = z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'an http(s) origin');
const clientSchema = z
  .object({ defaults: upstreamSchema.optional(), upstreams: z.record(origin, upstreamSchema).optional() })
  .passthrough();

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), reason: issue.message }));
  throw new JunctionError('config.invalid', `${what}: ${fields.map((f) => `${f.path || '(root)'}: ${f.reason}`).join('; ')}`, {
    context: { fields },
  });
}

/** The client's options, checked once, every problem named together. */
export function checkClientOptions(options: HttpClientOptions): HttpClientOptions {
  check(clientSchema, options, 'createHttpClient');
  return options;
}

/** A call's own settings, checked. */
export function checkCallOptions(options: CallOptions): void {
  check(callSchema, options, 'http client call');
}

const defined = <T extends object>(value: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The settings of one origin: the built-in defaults, under the client's defaults, under the origin's own. */
export function resolveUpstream(options: HttpClientOptions, upstream: string): ResolvedUpstream {
  const own = Object.entries(options.upstreams ?? {}).find(([key]) => new URL(key).origin === upstream)?.[1];
  return { ...DEFAULT_UPSTREAM, ...defined(options.defaults), ...defined(own) };
}

/** A call's settings: the upstream's under the call's own. */
export function resolveCall(upstream: ResolvedUpstream, call: CallOptions): Required<CallOptions> {
  const { timeoutMs, headersTimeoutMs, bodyTimeoutMs, retries, backoff, maxRetryAfterMs } = { ...upstream, ...defined(call) };
  return { timeoutMs, headersTimeoutMs, bodyTimeoutMs, retries, backoff, maxRetryAfterMs };
}
