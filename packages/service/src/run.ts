import { onShutdownSignal } from '@junction/http';
import { initObservability } from '@junction/observability';
import type { z } from 'zod';
import type { ServiceDefinition } from './service.ts';

/**
 * A service's whole `main`: observability first (its instrumentation must be in place before
 * express and http load), then {@link startService}, then a graceful stop on SIGTERM or SIGINT.
 * A service that cannot start says why in one log line and exits 1.
 */
export async function runService<Own extends z.ZodRawShape>(definition: ServiceDefinition<Own>): Promise<void> {
  const observability = await initObservability({ service: definition.name });
  const { logger } = observability;
  const { startService } = await import('./service.ts');
  try {
    const service = await startService(definition, { logger, metrics: observability.metrics });
    onShutdownSignal(async () => {
      await service.shutdown();
      await observability.shutdown();
    }, logger);
    logger.info(`${definition.name} listening on ${service.url}`, { url: service.url });
  } catch (error) {
    logger.error(`the ${definition.name} service cannot start: ${error instanceof Error ? error.message : String(error)}`, { err: error });
    await observability.shutdown();
    process.exit(1);
  }
}
