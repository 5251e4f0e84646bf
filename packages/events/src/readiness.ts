import { kafkaPort } from './kafka/port.ts';
import type { KafkaOption } from './kafka-connection.ts';

/** A readiness probe that owns a connection: `close` ends it at shutdown. */
export interface ClosableProbe {
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Probes Kafka for `/readyz` through an admin client of its own, so a stuck probe never holds up
 * publishing or consuming: connects on first use (again after a failure) and describes the cluster.
 */
export function kafkaReadiness(kafka: KafkaOption, clientId: string): ClosableProbe {
  // A failed probe is the readiness answer, not a log line: the port's clients log nothing.
  const admin = kafkaPort(kafka, { clientId, connectionTimeoutMs: 3000, requestTimeoutMs: 5000, retry: { retries: 0 } }).admin();
  let connected: Promise<void> | undefined;
  return {
    async check() {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = undefined;
        throw error;
      });
      await connected;
      await admin.describeCluster();
    },
    close: () => admin.disconnect(),
  };
}

/**
 * Probes the schema registry for `/readyz` with its global config: one small read of its storage,
 * where listing subjects would read them all.
 */
export function registryReadiness(registryUrl: string): (signal: AbortSignal) => Promise<void> {
  const url = `${registryUrl.replace(/\/$/, '')}/config`;
  return async (signal) => {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`the registry answered ${response.status}`);
  };
}
