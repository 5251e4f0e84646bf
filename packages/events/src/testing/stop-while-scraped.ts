/**
 * A process that starts a subscriber, scrapes its metrics continuously (lag questions to Kafka
 * under way), stops the subscriber in the middle of it, and then simply returns: it must exit on
 * its own, leaving no socket behind. Prints `stopped` once the subscriber stopped.
 *
 *   PROBE_SUFFIX (private topics' suffix), PROBE_GROUP, JUNCTION_KAFKA_BROKERS, JUNCTION_SCHEMA_REGISTRY_URL
 */
import { createMetrics } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { renameTopics } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { createSubscriber } from '../subscriber/subscriber.ts';
import { SCHEMAS_DIR } from './contracts.ts';

const { brokers, schemaRegistryUrl } = stackFromEnv();
const suffix = process.env.PROBE_SUFFIX ?? '';
const catalog = renameTopics(await loadCatalog(SCHEMAS_DIR), (name) => `${name}.t${suffix}`);
const metrics = createMetrics({ service: 'probe-test', processMetrics: false });
const subscriber = createSubscriber({
  group: process.env.PROBE_GROUP ?? 'probe-test',
  kafka: { brokers },
  registry: { url: schemaRegistryUrl },
  catalog,
  handlers: { 'com.junction.orders.OrderPlaced': async () => {} },
});
await subscriber.start();
// Scrapes back to back until the subscriber is stopped, one certainly in flight when it stops.
let scraping = true;
const scrapes = (async () => {
  while (scraping) await metrics.scrape();
})();
await new Promise((resolve) => setTimeout(resolve, 1500));
await subscriber.stop({ deadlineMs: 2000 });
scraping = false;
await scrapes;
metrics.close();
process.stdout.write('stopped\n');
