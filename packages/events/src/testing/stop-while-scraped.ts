/**
 * A process that starts a subscriber, asks its metrics probe for lag (a question to Kafka under
 * way, as during a scrape), stops the subscriber at that very moment, and then simply returns:
 * it must exit on its own, leaving no socket behind. Prints `stopped` once the subscriber stopped,
 * and each step on stderr, so that a test that times out says where it stopped.
 *
 *   PROBE_SUFFIX (private topics' suffix), PROBE_GROUP, JUNCTION_KAFKA_BROKERS, JUNCTION_SCHEMA_REGISTRY_URL
 */
import { probes } from '@junction/observability';
import { stackFromEnv } from '@junction/stack';
import { renameTopics } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { createSubscriber } from '../subscriber/subscriber.ts';
import { SCHEMAS_DIR } from './contracts.ts';

const step = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);
const { brokers, schemaRegistryUrl } = stackFromEnv();
const suffix = process.env.PROBE_SUFFIX ?? '';
const catalog = renameTopics(await loadCatalog(SCHEMAS_DIR), (name) => `${name}.t${suffix}`);
const subscriber = createSubscriber({
  group: process.env.PROBE_GROUP ?? 'probe-test',
  kafka: { brokers },
  registry: { url: schemaRegistryUrl },
  catalog,
  handlers: { 'com.junction.orders.OrderPlaced': async () => {} },
});
await subscriber.start();
step('started');
const [probe] = probes.subscribers;
if (!probe) throw new Error('the subscriber registered no probe');
// Two questions: the first connects the probe's admin client, the second is under way at stop.
// Either may fail (the group may be settling right after its first join): a scrape counts that.
await probe.lag().catch((error: unknown) => step(`first question failed: ${String(error)}`));
const asking = probe.lag();
step('stopping, a lag question under way');
await subscriber.stop({ deadlineMs: 2000 });
step('subscriber stopped');
await asking.catch(() => {});
process.stdout.write('stopped\n');
