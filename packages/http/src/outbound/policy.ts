/**
 * What may be retried, and why: the rules of the outbound client, apart from its plumbing.
 */

/** Methods RFC 9110 §9.2.2 calls idempotent: sending one twice has the effect of sending it once. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Statuses that say the upstream (or a proxy before it) could not handle the request now: worth another try. */
export const RETRIABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Whether a request may be sent twice: an idempotent method, or one the caller vouches for —
 * explicitly, or by an `Idempotency-Key` header, which tells the upstream to answer a repeat
 * with the first answer.
 */
export function isIdempotent(method: string, headers: Readonly<Record<string, unknown>>, marked?: boolean): boolean {
  if (marked !== undefined) return marked;
  return IDEMPOTENT_METHODS.has(method) || headers['idempotency-key'] !== undefined;
}

/** The wait a `Retry-After` header asks for (delay-seconds or an HTTP date), in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How an attempt that got no answer failed. */
export interface TransportFailure {
  kind: 'connect' | 'connect-timeout' | 'headers-timeout' | 'body-timeout' | 'reset' | 'too-large' | 'other';
  /** Whether the request may have reached the upstream: if so, only an idempotent one may be sent again. */
  mayHaveReached: boolean;
}

/** Errors of the connect phase: no byte of the request left this process. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

/** Reads an undici or socket error by its code (never its message). */
export function transportFailure(error: unknown): TransportFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return { kind: 'other', mayHaveReached: true };
  if (CONNECT_CODES.has(code)) return { kind: 'connect', mayHaveReached: false };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'connect-timeout', mayHaveReached: false };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'headers-timeout', mayHaveReached: true };
  if (code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'body-timeout', mayHaveReached: true };
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return { kind: 'too-large', mayHaveReached: true };
  if (RESET_CODES.has(code)) return { kind: 'reset', mayHaveReached: true };
  return { kind: 'other', mayHaveReached: true };
}
