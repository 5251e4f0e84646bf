export { postgresFromEnv, redisFromEnv, type StackEndpoints, stackFromEnv } from './endpoints.ts';
export { StackError, type StackErrorCode, type StackErrorOptions } from './errors.ts';
export { followFile, tailFile } from './internal/logs.ts';
export { isPortFree } from './internal/ports.ts';
export { processesMentioning } from './internal/processes.ts';
export { installCommand, type SystemPackage, systemPackages } from './internal/system-packages.ts';
export type { ToolResult } from './internal/tools.ts';
export {
  COMPATIBILITY_LEVELS,
  type Compatibility,
  defaultCacheDir,
  defaultStateDir,
  type PrometheusOptions,
  type RegistryOptions,
  type RegistryStorage,
  type ScrapeTarget,
  type StackOptions,
} from './options.ts';
export { type PrometheusServer, type PrometheusServerOptions, setPrometheusTargets, startPrometheus } from './prometheus.ts';
export {
  type PrometheusAlert,
  type PrometheusQueryOptions,
  type PrometheusSample,
  prometheusAlerts,
  queryPrometheus,
} from './prometheus-query.ts';
export { type SchemathesisOptions, schemathesisCommand } from './schemathesis.ts';
export { type KafkaCredentials, readStackSecurity, type SecureKafkaConnection, type StackSecurity, stackSecurity } from './security.ts';
export { type KafkaTools, kafkaTools, type MissingServer, type Stack, type StackNode, startStack } from './stack.ts';
export { type ComponentLog, type ComponentState, type ComponentStatus, type StackStatus, stackLogs, stackStatus } from './status.ts';
export { type StopOptions, stopAllStacks, stopStack } from './stop.ts';
export { ensureLocalCa, type IssuedCertificate, type IssueOptions, issueCertificate, type LocalCa, type TlsFileOptions } from './tls.ts';
export {
  APICURIO_MIN_JAVA,
  APICURIO_VERSION,
  KAFKA_MIN_JAVA,
  KAFKA_VERSION,
  POSTGRES_MIN_VERSION,
  SCHEMATHESIS_VERSION,
} from './versions.ts';
