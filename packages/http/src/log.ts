/** One log method, as winston's logger has them: a message and structured fields. */
export type LogMethod = (message: string, fields?: Record<string, unknown>) => void;

/** The log levels a component writes to; the service's winston logger fits. */
export type LogSink<Level extends 'error' | 'warn' | 'info'> = Record<Level, LogMethod>;
