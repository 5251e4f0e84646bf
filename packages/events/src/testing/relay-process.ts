/**
 * A relay in a process of its own, for crash tests: relays the outbox of the database named by
 * the environment until it is empty, then exits 0. With RELAY_CRASH=after-send it kills itself
 * with SIGKILL right after Kafka acknowledged its first round, before marking the rows sent.
 *
 *   RELAY_DB=pglite:<dir> | postgres:<url>   RELAY_TOPIC_SUFFIX=<suffix of privateContracts>
 *   JUNCTION_KAFKA_BROKERS, JUNCTION_SCHEMA_REGISTRY_URL
 */
import { stackFromEnv } from '@junction/stack';
import pg from 'pg';
import { renameTopics } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { type Database, fromPgPool, openPGlite } from '../outbox/database.ts';
import { createOutboxRelay } from '../outbox/relay.ts';
import { createPublisher } from '../publisher/publisher.ts';
import { SCHEMAS_DIR } from './contracts.ts';

const target = process.env.RELAY_DB ?? '';
const suffix = process.env.RELAY_TOPIC_SUFFIX ?? '';
const { brokers, schemaRegistryUrl } = stackFromEnv();
const catalog = renameTopics(await loadCatalog(SCHEMAS_DIR), (name) => `${name}.t${suffix}`);

let db: Database;
let pool: pg.Pool | undefined;
if (target.startsWith('pglite:')) db = await openPGlite(target.slice('pglite:'.length));
else {
  pool = new pg.Pool({ connectionString: target.slice('postgres:'.length), max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  db = fromPgPool(pool);
}

const publisher = createPublisher({ service: 'orders', kafka: { brokers }, registry: { url: schemaRegistryUrl }, catalog });
const relay = createOutboxRelay({
  db,
  publisher,
  batchSize: Number(process.env.RELAY_BATCH ?? 100),
  afterSend: () => {
    if (process.env.RELAY_CRASH === 'after-send') process.kill(process.pid, 'SIGKILL');
  },
});

let sent = 0;
for (;;) {
  const round = await relay.runOnce();
  if (round === 0) break;
  sent += round;
}
process.stdout.write(`${JSON.stringify({ sent })}\n`);
await publisher.close();
await db.close();
await pool?.end();
