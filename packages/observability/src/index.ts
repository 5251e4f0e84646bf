export { type BackoffOptions, backoffDelay } from './backoff.ts';
export { type Circuit, type CircuitOptions, type CircuitPass, type CircuitState, createCircuit } from './circuit.ts';
export {
  activeTraceparent,
  contextOfTraceparent,
  currentLogFields,
  formatTraceparent,
  type LogFields,
  parseTraceparent,
  withLogFields,
} from './context.ts';
export { type Dashboard, dashboards, type PanelQuery, panelQueries } from './dashboards/index.ts';
export { type FieldProblem, JunctionError, type JunctionErrorCode, type JunctionErrorOptions } from './errors.ts';
export { initObservability, type Observability, type ObservabilityOptions } from './init.ts';
export { type ConfirmedOrder, type OrderCancelReason, type OrderKpis, orderKpis } from './kpis.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { CIRCUIT_STATE_VALUE, LATENCY_BUCKETS, METRICS, type MetricSpec } from './metric-names.ts';
export { createMetrics, type Metrics, type MetricsOptions, statusClass } from './metrics.ts';
export { labelValueProblems, metricNameProblem, metricOf } from './promql-check.ts';
export { REDACTED, redact } from './redact.ts';
export { type MetricsServer, type ServeMetricsOptions, serveMetrics } from './serve.ts';
export {
  type HandlerAttempt,
  type HttpAnswered,
  type HttpClientCalled,
  type OutboxProbe,
  type PartitionLag,
  type PublisherProbe,
  type PublishSettled,
  probes,
  type RecordFinished,
  registerProbe,
  type SubscriberProbe,
  type TelemetryChannel,
  telemetry,
} from './telemetry.ts';
export { startTracing, type Tracing, type TracingOptions } from './tracing.ts';
export {
  type WebhookAttemptOutcome,
  type WebhookEndpointState,
  type WebhookMetrics,
  type WebhookSnapshot,
  webhookMetrics,
} from './webhooks.ts';
