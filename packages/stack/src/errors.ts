/** Why the stack could not do what was asked: one code per kind of failure. */
export type StackErrorCode =
  | 'invalid-options'
  | 'stack-missing'
  | 'java-missing'
  | 'maven-missing'
  | 'postgres-missing'
  | 'redis-missing'
  | 'prometheus-missing'
  | 'openssl-missing'
  | 'certificate-failed'
  | 'permission-denied'
  | 'download-failed'
  | 'port-in-use'
  | 'state-conflict'
  | 'locked'
  | 'component-exited'
  | 'component-not-ready'
  | 'reload-failed'
  | 'query-failed'
  | 'stop-failed';

/** Options for {@link StackError}. */
export interface StackErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  /** Last lines of the component's log, when a process failed. */
  logTail?: string[];
  cause?: unknown;
}

/**
 * A failure of the local stack. `message` says what went wrong in one line and `hint` what
 * to do next. `@junction/stack` imports nothing of Junction's, so this stands apart from
 * `JunctionError`; the CLI prints both the same way.
 */
export class StackError extends Error {
  override readonly name = 'StackError';
  readonly code: StackErrorCode;
  readonly hint: string | undefined;
  readonly logTail: string[];

  constructor(code: StackErrorCode, message: string, options: StackErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.logTail = options.logTail ?? [];
  }
}
