export { type FieldProblem, JunctionError, type JunctionErrorCode, type JunctionErrorOptions } from './errors.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { CIRCUIT_STATE_VALUE, LATENCY_BUCKETS, METRICS, type MetricSpec } from './metric-names.ts';
