import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  activeTraceparent,
  backoffDelay,
  type Circuit,
  type CircuitPass,
  type CircuitState,
  createCircuit,
  type HttpClientCalled,
  JunctionError,
  telemetry,
} from '@junction/observability';
import { type Dispatcher, Pool } from 'undici';
import {
  type CallOptions,
  checkCallOptions,
  checkClientOptions,
  type HttpClientOptions,
  type ResolvedUpstream,
  resolveCall,
  resolveUpstream,
} from './options.ts';
import { isIdempotent, RETRIABLE_STATUSES, retryAfterMs, transportFailure } from './policy.ts';
import { bodyError, type CallSite, type OutboundResponse, outboundResponse } from './response.ts';

/** One outbound request. */
export interface OutboundRequest extends CallOptions {
  method: string;
  /** An absolute http(s) URL; its origin picks the upstream's pool, breaker and settings. */
  url: string | URL;
  headers?: Record<string, string | string[] | undefined>;
  /** A stream is sent once: a request with a stream body is never retried (it cannot be replayed). */
  body?: string | Uint8Array | Readable | null;
  /** Vouches that sending the request twice is safe (a POST the upstream deduplicates); `Idempotency-Key` implies it. */
  idempotent?: boolean;
  /** Abandons the call (the caller went away). */
  signal?: AbortSignal;
}

/** The resilient outbound HTTP client: see {@link createHttpClient}. */
export interface HttpClient {
  /** Sends a request; resolves with the upstream's answer or rejects with a JunctionError (`timeout`, `upstream.unavailable`, `circuit.open`). */
  request(request: OutboundRequest): Promise<OutboundResponse>;
  /** The state of an origin's breaker; undefined when it has none or was never called. */
  circuitState(upstream: string): CircuitState | undefined;
  /** Closes every pooled connection. */
  close(): Promise<void>;
}

interface Upstream {
  origin: string;
  settings: ResolvedUpstream;
  pool: Pool;
  circuit: Circuit | undefined;
  pending: number;
}

type Outcome = HttpClientCalled['outcome'];
const OUTCOME: Partial<Record<JunctionError['code'], Outcome>> = {
  timeout: 'timeout',
  'upstream.unavailable': 'unavailable',
  'circuit.open': 'circuit-open',
};

/**
 * An HTTP client for calls to other services, on undici: a pool per origin (bounded connections
 * and queue), a deadline on every call, bounded retries with backoff and jitter for requests that
 * are safe to repeat, and a circuit breaker per origin. Every call is reported on
 * `telemetry.httpClientCalled`; the active trace's `traceparent` goes with it.
 *
 * Retries: idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, or marked, or with an
 * `Idempotency-Key`) on connect failures, resets, timeouts, 502/503/504 and 429 (waiting its
 * `Retry-After`, up to `maxRetryAfterMs`). Any request, idempotent or not, is retried when it
 * certainly never left (connection refused, connect timeout): nothing can have happened twice.
 * A 429 still refused after the retries is returned as it is; a 502/503/504 becomes
 * `upstream.unavailable`. Other statuses (a 500 too) are answers, returned as they are.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  checkClientOptions(options);
  const upstreams = new Map<string, Upstream>();

  const upstreamOf = (origin: string): Upstream => {
    const known = upstreams.get(origin);
    if (known) return known;
    const settings = resolveUpstream(options, origin);
    const pool = new Pool(origin, {
      connections: settings.connections,
      connect: { timeout: settings.connectTimeoutMs },
      headersTimeout: settings.headersTimeoutMs,
      bodyTimeout: settings.bodyTimeoutMs,
      maxResponseSize: settings.maxResponseBytes,
    });
    const circuit = settings.breaker
      ? createCircuit(
          { ...settings.breaker, onStateChange: (state, previous) => options.onCircuitChange?.(origin, state, previous) },
          `breaker of ${origin}`,
        )
      : undefined;
    const upstream = { origin, settings, pool, circuit, pending: 0 };
    upstreams.set(origin, upstream);
    return upstream;
  };

  const request = async (req: OutboundRequest): Promise<OutboundResponse> => {
    const url = new URL(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new JunctionError('config.invalid', `http client: ${url.protocol} is not http or https`);
    const { method: rawMethod, url: _url, headers: rawHeaders, body, idempotent: marked, signal, ...own } = req;
    checkCallOptions(own);
    const upstream = upstreamOf(url.origin);
    const limits = resolveCall(upstream.settings, own);
    const method = rawMethod.toUpperCase();
    const site: CallSite = { upstream: upstream.origin, method, path: url.pathname };
    const where = `${method} ${upstream.origin}${url.pathname}`;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(rawHeaders ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    const traceparent = activeTraceparent();
    if (traceparent) headers.traceparent = traceparent;
    const idempotent = isIdempotent(method, headers, marked);
    const replayable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;

    const started = performance.now();
    let attempts = 0;
    let status: number | undefined;
    const report = (outcome: Outcome) => {
      if (telemetry.httpClientCalled.hasSubscribers)
        telemetry.httpClientCalled.publish({
          upstream: upstream.origin,
          method,
          ...(status === undefined ? {} : { status }),
          outcome,
          attempts,
          durationMs: performance.now() - started,
        });
    };
    const failed = (error: JunctionError): JunctionError => {
      report(OUTCOME[error.code] ?? 'error');
      return error;
    };

    if (upstream.pending >= upstream.settings.maxPending) {
      throw failed(
        new JunctionError('upstream.unavailable', `${where}: ${upstream.pending} calls already in flight (maxPending); try again shortly`, {
          context: { ...site, maxPending: upstream.settings.maxPending },
        }),
      );
    }

    // One deadline for the whole call, the response body included: it aborts whatever is under way.
    const deadline = new AbortController();
    const timedOut = () =>
      new JunctionError(
        'timeout',
        `${where}: no answer within ${limits.timeoutMs} ms (${attempts} attempts); the upstream is slow or down`,
        {
          context: { ...site, timeoutMs: limits.timeoutMs, attempts },
        },
      );
    const timer = setTimeout(() => deadline.abort(timedOut()), limits.timeoutMs);
    const abandon = () => deadline.abort(signal?.reason);
    signal?.addEventListener('abort', abandon, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
    };
    const endsAt = started + limits.timeoutMs;
    const bodyLimits = { maxResponseBytes: upstream.settings.maxResponseBytes, bodyTimeoutMs: limits.bodyTimeoutMs };
    upstream.pending += 1;
    let handedOver = false;
    /** A failed attempt: why, whether the request may have reached the upstream, and the wait it asked for. */
    type Failed = { answer?: undefined; failure: JunctionError; mayHaveReached: boolean; waitMs?: number };
    /** One request to the upstream; throws only what ends the call (the deadline, the caller, a bug). */
    const attempt = async (
      pass: CircuitPass | undefined,
      final: (waitMs?: number) => boolean,
    ): Promise<{ answer: OutboundResponse } | Failed> => {
      let answer: Dispatcher.ResponseData;
      try {
        answer = await upstream.pool.request({
          path: `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          signal: deadline.signal,
          headersTimeout: limits.headersTimeoutMs,
          bodyTimeout: limits.bodyTimeoutMs,
        });
      } catch (error) {
        if (deadline.signal.aborted) {
          const reason: unknown = deadline.signal.reason;
          if (reason instanceof JunctionError && reason.code === 'timeout') pass?.failed();
          else pass?.released();
          throw reason instanceof JunctionError ? reason : JunctionError.from(reason, 'internal', { ...site });
        }
        const transport = transportFailure(error);
        // The request body's own failure (too large, say) or a bug of ours says nothing about the upstream.
        if (error instanceof JunctionError || transport.kind === 'other') {
          pass?.released();
          throw JunctionError.from(error, 'internal', { ...site });
        }
        pass?.failed();
        const slow = transport.kind === 'connect-timeout' || transport.kind === 'headers-timeout';
        const what =
          transport.kind === 'connect-timeout' || transport.kind === 'connect'
            ? 'could not connect'
            : slow
              ? 'no response headers in time'
              : 'the connection failed';
        const failure = new JunctionError(
          slow ? 'timeout' : 'upstream.unavailable',
          `${where}: ${what} (${attempts} attempts); is the service up?`,
          {
            cause: error,
            context: { ...site, attempts },
          },
        );
        return { failure, mayHaveReached: transport.mayHaveReached };
      }
      status = answer.statusCode;
      const waitMs = retryAfterMs(answer.headers['retry-after']);
      // A 429 is the upstream working as meant: it does not count against the breaker, and when
      // it is final the caller gets it as it is.
      if (status === 429 || !RETRIABLE_STATUSES.has(status)) pass?.succeeded();
      else pass?.failed();
      if ((status === 429 && final(waitMs)) || (status !== 429 && !RETRIABLE_STATUSES.has(status))) {
        const declared = Number(answer.headers['content-length']);
        if (declared > upstream.settings.maxResponseBytes) {
          await answer.body.dump().catch(() => {});
          throw bodyError(Object.assign(new Error('too large'), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' }), site, bodyLimits);
        }
        answer.body.on('error', () => {}); // an unread body destroyed by the deadline must not crash the process
        answer.body.once('close', done);
        const fail = (error: unknown) =>
          deadline.signal.aborted && deadline.signal.reason instanceof JunctionError
            ? deadline.signal.reason
            : bodyError(error, site, bodyLimits);
        return { answer: outboundResponse(answer, attempts, fail) };
      }
      await answer.body.dump().catch(() => {});
      const failure = new JunctionError('upstream.unavailable', `${where}: answered ${status} (${attempts} attempts)`, {
        context: { ...site, status, attempts, ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }) },
      });
      return { failure, mayHaveReached: true, ...(waitMs === undefined ? {} : { waitMs }) };
    };

    try {
      for (let retry = 0; ; retry += 1) {
        const pass = upstream.circuit?.admit();
        if (upstream.circuit && !pass) {
          const afterMs = upstream.circuit.retryAfterMs();
          throw new JunctionError(
            'circuit.open',
            `${where}: calls to ${upstream.origin} are paused after repeated failures; next try in ${afterMs} ms`,
            {
              context: { ...site, retryAfterMs: afterMs, attempts },
            },
          );
        }
        attempts += 1;
        const backoff = backoffDelay(retry, limits.backoff);
        const delayOf = (waitMs?: number) => Math.max(backoff, Math.min(waitMs ?? 0, limits.maxRetryAfterMs));
        const mayRetry = (reached: boolean, waitMs?: number) =>
          retry < limits.retries &&
          replayable &&
          (idempotent || !reached) &&
          (waitMs ?? 0) <= limits.maxRetryAfterMs &&
          performance.now() + delayOf(waitMs) < endsAt;
        const result = await attempt(pass, (waitMs) => !mayRetry(true, waitMs));
        if (result.answer) {
          handedOver = true;
          report('ok');
          return result.answer;
        }
        const { failure, mayHaveReached, waitMs } = result;
        if (!mayRetry(mayHaveReached, waitMs)) throw failure;
        try {
          await sleep(delayOf(waitMs), undefined, { signal: deadline.signal });
        } catch {
          const reason: unknown = deadline.signal.reason;
          throw reason instanceof JunctionError ? reason : JunctionError.from(reason, 'internal', { ...site });
        }
      }
    } catch (error) {
      throw failed(JunctionError.from(error, 'internal', { ...site }));
    } finally {
      upstream.pending -= 1;
      if (!handedOver) done();
    }
  };

  return {
    request,
    circuitState: (upstream) => upstreams.get(new URL(upstream).origin)?.circuit?.state(),
    async close() {
      const all = [...upstreams.values()];
      upstreams.clear();
      for (const upstream of all) upstream.circuit?.dispose();
      await Promise.all(all.map((upstream) => upstream.pool.close()));
    },
  };
}
