import winston from 'winston';
import { currentLogFields } from './context.ts';
import { isSensitive, REDACTED, redact } from './redact.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service name stamped on every line. */
  service: string;
  /** Default `LOG_LEVEL` from the environment, else `info`. */
  level?: string;
  /**
   * Field names never to log in clear, beside secrets (which always go): the catalog's personal
   * fields, `piiFields(catalog)` from `@junction/events`.
   */
  redact?: Iterable<string>;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

/** Fields winston and this logger own; everything else on a line is the caller's and gets redacted. */
const OWN = new Set(['level', 'message', 'timestamp', 'service', 'trace_id', 'span_id', 'correlation_id', 'event_id', 'stack']);

/**
 * A winston logger writing one JSON object per line with `service`, `timestamp`, and — when
 * known — `trace_id`, `span_id`, `correlation_id` and `event_id` (from the active span and
 * `withLogFields`). Secrets and personal fields are redacted at any depth before a line is written.
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const pii = new Set([...(options.redact ?? [])].map((name) => name.toLowerCase()));
  const enrich = winston.format((info) => {
    for (const [key, value] of Object.entries(currentLogFields())) if (info[key] === undefined) info[key] = value;
    for (const key of Object.keys(info)) {
      if (OWN.has(key)) continue;
      info[key] = isSensitive(key, pii) ? REDACTED : redact(info[key], pii);
    }
    return info;
  });
  return winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), enrich(), winston.format.json()),
    transports: [options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console()],
  });
}

/** The logger type of {@link createLogger}. */
export type Logger = winston.Logger;
