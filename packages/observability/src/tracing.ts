import { register } from 'node:module';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  service: string;
  /**
   * Where spans go. Default: OTLP over HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (and the other
   * standard `OTEL_*` variables), batched. Tests pass a processor over an in-memory exporter.
   */
  spanProcessors?: SpanProcessor[];
}

/** Running tracing; `shutdown` flushes the spans not yet exported. */
export interface Tracing {
  shutdown(): Promise<void>;
}

let hooked = false;

/** Requests of Prometheus and the orchestrator, not of users. */
const UNTRACED = /^\/(metrics|healthz|readyz)(\?|$)/;

/**
 * Starts OpenTelemetry's Node SDK with the http and express instrumentations and W3C trace
 * context. Kafka spans come from `@junction/events` itself (publish and process spans whose
 * `traceparent` travels in record headers, through retry and dead-letter topics): the kafkajs
 * instrumentation would stamp each record with the span of whichever call flushed a batch, and
 * the publisher batches the records of many callers into one send.
 *
 * Modules instrumented here must load after this call: a service calls `initObservability`
 * first and imports express (and its app) dynamically after it.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (!hooked) {
    // ESM imports of express and http are patched through this loader hook (import-in-the-middle).
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
    hooked = true;
  }
  const sdk = new NodeSDK({
    serviceName: options.service,
    instrumentations: [
      // Scrapes and probes every few seconds would bury the traces worth reading.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED.test(req.url ?? '') }),
      new ExpressInstrumentation(),
    ],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
