/**
 * Every failure Junction names. Retry and dead-letter decisions branch on these codes (and
 * on `retriable`), never on message text; HTTP problem responses carry the same codes.
 */
export type JunctionErrorCode =
  | 'config.invalid'
  | 'event.invalid'
  | 'event.undecodable'
  | 'schema.unknown'
  | 'schema.incompatible'
  | 'registry.unavailable'
  | 'broker.unavailable'
  | 'topic.unknown'
  | 'publisher.backpressure'
  | 'publisher.outcome-unknown'
  | 'timeout'
  | 'circuit.open'
  | 'inbox.unavailable'
  | 'broker.denied'
  | 'request.invalid'
  | 'request.too-large'
  | 'request.unsupported-type'
  | 'route.unknown'
  | 'method.unsupported'
  | 'auth.unauthenticated'
  | 'auth.forbidden'
  | 'rate.limited'
  | 'idempotency.conflict'
  | 'idempotency.in-progress'
  | 'upstream.unavailable'
  | 'database.unavailable'
  | 'request.unprocessable'
  | 'state.conflict'
  | 'internal';

/**
 * One reason a value does not match its schema, at a dotted field path (`lines.0.unitPrice`).
 * `event.invalid` errors carry a list of them as `context.fields`.
 */
export interface FieldProblem {
  path: string;
  reason: string;
}

/** Options of {@link JunctionError}. */
export interface JunctionErrorOptions {
  /** Whether the same call may succeed if tried again. Defaults by code. */
  retriable?: boolean;
  cause?: unknown;
  /** Facts that locate the failure: topic, subject, schema id, field paths. */
  context?: Record<string, unknown>;
}

const RETRIABLE_BY_DEFAULT: ReadonlySet<JunctionErrorCode> = new Set([
  'registry.unavailable',
  'broker.unavailable',
  'publisher.backpressure',
  // Publishing again under the same event ids is safe: consumers drop the copy by ce_id.
  'publisher.outcome-unknown',
  'timeout',
  'circuit.open',
  'inbox.unavailable',
  'rate.limited',
  'idempotency.in-progress',
  'upstream.unavailable',
  'database.unavailable',
]);

/** The one error class of Junction: a closed `code`, `retriable`, the `cause` and context. */
export class JunctionError extends Error {
  override readonly name = 'JunctionError';
  readonly code: JunctionErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: JunctionErrorCode, message: string, options: JunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? RETRIABLE_BY_DEFAULT.has(code);
    this.context = options.context ?? {};
  }

  /**
   * Normalises anything thrown into a JunctionError, once, at a boundary: a JunctionError
   * passes through; anything else becomes `fallback` with the original as `cause`.
   */
  static from(error: unknown, fallback: JunctionErrorCode = 'internal', context: Record<string, unknown> = {}): JunctionError {
    if (error instanceof JunctionError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new JunctionError(fallback, message, { cause: error, context });
  }
}
