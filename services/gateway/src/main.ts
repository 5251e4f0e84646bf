import { initObservability } from '@junction/observability';

// Observability first: its instrumentation must be in place before express and http are loaded.
const observability = await initObservability({ service: 'gateway' });
const { logger } = observability;
const { startGateway, stopOnSignals } = await import('./server.ts');

try {
  const gateway = await startGateway({ logger, metrics: observability.metrics });
  stopOnSignals(gateway, logger, () => observability.shutdown());
  logger.info(`gateway listening on ${gateway.url}`, { url: gateway.url });
} catch (error) {
  logger.error(`the gateway cannot start: ${error instanceof Error ? error.message : String(error)}`, { err: error });
  await observability.shutdown();
  process.exit(1);
}
