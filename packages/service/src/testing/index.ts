import { createPublisher, type Publisher } from '@junction/events';
import { type PrivateContracts, privateContracts } from '@junction/events/testing';
import { createLogger, createMetrics } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import type { z } from 'zod';
import { envPrefix } from '../config.ts';
import { type RunningService, type ServiceDefinition, startService } from '../service.ts';

/** A service started on the test stack for a test, with what the test drives it with. */
export interface ServiceUnderTest {
  service: RunningService;
  /** The test's private topics and subjects. */
  contracts: PrivateContracts;
  /** Publishes events to those topics, as the other services would. */
  publisher: Publisher;
  /** Stops the service and the publisher, and deletes the topics and subjects. */
  close(): Promise<void>;
}

/**
 * Starts `definition` in this process as `<name>-<suffix>` (its own consumer group, database
 * schema and variables) on the test stack's Kafka, registry and PostgreSQL, on private topics,
 * on a free port; `env` adds the service's own settings. Services that should talk to each other
 * share `shared` topics (which then stay for their owner to delete). Fails, saying so, without the stack's PostgreSQL.
 */
export async function serviceUnderTest<Own extends z.ZodRawShape>(
  definition: ServiceDefinition<Own>,
  env: Record<string, string> = {},
  shared?: PrivateContracts,
): Promise<ServiceUnderTest> {
  if (!process.env.JUNCTION_POSTGRES_URL) throw new Error('these tests need the stack PostgreSQL (JUNCTION_POSTGRES_URL)');
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  const contracts = shared ?? (await privateContracts({ brokers, registryUrl: schemaRegistryUrl, partitions: 2 }));
  const name = `${definition.name}-${contracts.suffix}`;
  const service = (await startService(
    { ...definition, name },
    {
      logger: createLogger({ service: definition.name, level: 'error' }),
      metrics: createMetrics({ service: definition.name, processMetrics: false }),
      env: { ...process.env, [`${envPrefix(name)}_PORT`]: '0', ...env },
      catalog: contracts.catalog,
    },
  )) as RunningService;
  const publisher = createPublisher({
    service: 'test',
    kafka: { brokers },
    registry: { url: schemaRegistryUrl },
    catalog: contracts.catalog,
  });
  return {
    service,
    contracts,
    publisher,
    async close() {
      await publisher.close();
      await service.shutdown();
      if (!shared) await contracts.cleanup();
    },
  };
}
