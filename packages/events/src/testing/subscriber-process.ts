/**
 * A subscriber in a process of its own, for crash tests: group SUB_GROUP consumes the private
 * topics (RELAY_TOPIC_SUFFIX, as privateContracts made them) and, for each OrderCancelled, writes
 * one effect row through the inbox transaction — the exactly-once path. With SUB_CRASH_AFTER=N it
 * kills itself with SIGKILL in the middle of its N-th handler, after the effect was written and
 * before it committed. It runs until SIGTERM, then stops gracefully.
 *
 *   SUB_DB=postgres:<url>  SUB_GROUP=<group>  RELAY_TOPIC_SUFFIX=<suffix>
 *   JUNCTION_KAFKA_BROKERS, JUNCTION_SCHEMA_REGISTRY_URL
 */
import { stackFromEnv } from '@junction/stack';
import pg from 'pg';
import { renameTopics } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { fromPgPool } from '../outbox/database.ts';
import { postgresInbox } from '../subscriber/inbox/postgres.ts';
import { stopOnSignals } from '../subscriber/signals.ts';
import { createSubscriber } from '../subscriber/subscriber.ts';
import type { EventContext } from '../subscriber/types.ts';
import { SCHEMAS_DIR } from './contracts.ts';

const { brokers, schemaRegistryUrl } = stackFromEnv();
const suffix = process.env.RELAY_TOPIC_SUFFIX ?? '';
const catalog = renameTopics(await loadCatalog(SCHEMAS_DIR), (name) => `${name}.t${suffix}`);
const crashAfter = Number(process.env.SUB_CRASH_AFTER ?? 0);
const pool = new pg.Pool({ connectionString: (process.env.SUB_DB ?? '').replace(/^postgres:/, ''), max: 8, connectionTimeoutMillis: 5000 });
pool.on('error', () => {});
const db = fromPgPool(pool);

let handled = 0;
const subscriber = createSubscriber({
  group: process.env.SUB_GROUP ?? 'crash-test',
  kafka: { brokers },
  registry: { url: schemaRegistryUrl },
  catalog,
  ordering: 'key',
  maxConcurrency: 8,
  commitIntervalMs: 200,
  idempotency: { store: postgresInbox(db), ttlMs: 3_600_000 },
  handlers: {
    'com.junction.orders.OrderCancelled': async (ctx: EventContext) => {
      await ctx.tx?.query('INSERT INTO effects (event_id, pid) VALUES ($1, $2)', [ctx.event?.id, process.pid]);
      handled += 1;
      if (crashAfter && handled === crashAfter) process.kill(process.pid, 'SIGKILL');
    },
  },
});
await subscriber.start();
process.stdout.write('started\n');
stopOnSignals(subscriber, { deadlineMs: 10_000, afterStop: () => pool.end() });
