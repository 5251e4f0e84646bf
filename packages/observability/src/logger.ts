import winston from 'winston';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service name stamped on every line. */
  service: string;
  /** Default `LOG_LEVEL` from the environment, else `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

/** A winston logger writing one JSON object per line, each with `service` and `timestamp`. */
export function createLogger(options: LoggerOptions): winston.Logger {
  return winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console()],
  });
}

/** The logger type of {@link createLogger}. */
export type Logger = winston.Logger;
