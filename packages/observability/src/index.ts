export { type FieldProblem, JunctionError, type JunctionErrorCode, type JunctionErrorOptions } from './errors.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
