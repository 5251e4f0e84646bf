import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createPublisher,
  createSubscriber,
  type Database,
  type EventContext,
  eventContract,
  JunctionError,
  loadCatalog,
  migrateOutbox,
  type Outcome,
  openPGlite,
  openPostgres,
  postgresInbox,
} from '@junction/events';
import { createMetrics, type MetricsServer, serveMetrics } from '@junction/observability';
import { Command, InvalidArgumentError } from 'commander';
import type { Kafka } from 'kafkajs';
import { sampleOrder } from '../internal/demo-orders.ts';
import { brokersOf, cliKafka, connectAdmin, requireTopic } from '../internal/kafka.ts';
import { progress, style } from '../internal/output.ts';
import { repositoryRoot, stateDir } from '../internal/paths.ts';
import { cliPiiKeyring } from '../internal/pii.ts';
import { demoLoadCommand } from './demo-load.ts';
import { DEFAULT_BROKERS, DEFAULT_REGISTRY_URL } from './schemas.ts';

const GROUP = 'demo';
const ORDER_PLACED = 'com.junction.orders.OrderPlaced';
const ORDER_CANCELLED = 'com.junction.orders.OrderCancelled';

interface ConsumeFlags {
  brokers?: string;
  registry?: string;
  postgres?: string;
  publish: number;
  flaky: number;
  stopAfter?: number;
  metricsPort: number;
  /** False with --no-metrics. */
  metrics: boolean;
}

/** The demo subscriber's /metrics: a port of its own, clear of the services' 8101-8104. */
const DEMO_METRICS_PORT = 8109;

const count = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port from 0 to 65535 (0: any free one)');
  return n;
};
const ratio = (value: string): number => {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a fraction from 0 up to (not including) 1, e.g. 0.2');
  return n;
};

/** Records not yet consumed by the group: high watermark minus committed offset, over every partition. */
async function lagOf(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: GROUP, topics: [topic] })]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(at.get(p.partition) ?? 0, Number(p.low))), 0);
}

async function consume(flags: ConsumeFlags): Promise<void> {
  const brokers = brokersOf(flags.brokers, DEFAULT_BROKERS);
  const registryUrl = flags.registry ?? process.env.JUNCTION_SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY_URL;
  const catalog = await loadCatalog(join(repositoryRoot(), 'schemas'));
  const topic = eventContract(catalog, ORDER_PLACED).topic;
  const kafka = cliKafka(brokers);
  const admin = await connectAdmin(kafka, brokers);
  try {
    await requireTopic(admin, topic, 'start the stack with ./junction up (it registers schemas/), or run ./junction schemas register');
  } catch (error) {
    await admin.disconnect().catch(() => {});
    throw error;
  }

  // Effects are counted where a real service would keep them: PostgreSQL, or PGlite by default.
  let db: Database;
  if (flags.postgres) db = openPostgres(flags.postgres);
  else {
    const dir = join(stateDir(), 'demo-consume');
    await mkdir(dir, { recursive: true });
    db = await openPGlite(dir);
    progress(`effects are kept in PGlite at ${dir}`);
  }
  await migrateOutbox(db);
  await db.query(
    'CREATE TABLE IF NOT EXISTS demo_effects (event_id text NOT NULL, type text NOT NULL, order_id text NOT NULL, at timestamptz NOT NULL DEFAULT now())',
  );

  const tally: Record<Outcome, number> & { consumed: number } = {
    consumed: 0,
    ok: 0,
    retried: 0,
    'dead-lettered': 0,
    deduplicated: 0,
    skipped: 0,
  };
  const effect = async (ctx: EventContext) => {
    // A stand-in for a flaky dependency (a payment provider, say), so retries can be watched.
    if (flags.flaky && Math.random() < flags.flaky)
      throw new JunctionError('broker.unavailable', 'the demo dependency failed (simulated with --flaky)');
    const data = ctx.event?.data as { orderId: string };
    await ctx.tx?.query('INSERT INTO demo_effects (event_id, type, order_id) VALUES ($1, $2, $3)', [
      ctx.event?.id,
      ctx.event?.type,
      data.orderId,
    ]);
  };
  const subscriber = createSubscriber({
    group: GROUP,
    kafka,
    registry: { url: registryUrl },
    catalog,
    ordering: 'key',
    maxConcurrency: 16,
    retry: { delaysMs: [1000, 5000], inPlace: { retries: 1 } },
    breaker: { failureThreshold: 20, openMs: 3000 },
    timeoutMs: 10_000,
    idempotency: { store: postgresInbox(db), ttlMs: 7 * 86_400_000 },
    handlers: { [ORDER_PLACED]: effect, [ORDER_CANCELLED]: effect },
    // Like the billing service it stands in for, it needs no personal data, so it holds no PII key.
    pii: false,
    onOutcome: (outcome) => {
      tally.consumed += 1;
      tally[outcome] += 1;
    },
  });
  await subscriber.start();
  const metrics = createMetrics({ service: 'demo' });
  let metricsServer: MetricsServer | undefined;
  if (flags.metrics) {
    try {
      metricsServer = await serveMetrics(metrics, { port: flags.metricsPort });
      progress(`metrics at ${metricsServer.url}/metrics (./junction up's Prometheus scrapes port ${DEMO_METRICS_PORT})`);
    } catch (error) {
      // The demo is worth running without its metrics: say why they are missing, and go on.
      progress(`no metrics: port ${flags.metricsPort} is not free (${String(error)}); pick another with --metrics-port`);
    }
  }

  if (flags.publish) {
    const publisher = createPublisher({ service: 'orders', kafka, registry: { url: registryUrl }, catalog, pii: await cliPiiKeyring() });
    await Promise.all(Array.from({ length: flags.publish }, () => publisher.publish(ORDER_PLACED, sampleOrder())));
    await publisher.close();
    progress(`published ${flags.publish} OrderPlaced events to ${topic}`);
  }

  console.log(`Consuming ${topic} as group ${GROUP}; poke it with ./junction bench produce, or raw bytes into the topic. Ctrl-C stops.`);
  const tty = process.stdout.isTTY === true;
  let lastLine = '';
  const line = async () => {
    const [lag, effects] = await Promise.all([
      lagOf(admin, topic).catch(() => Number.NaN),
      db.query('SELECT count(*)::int AS n FROM demo_effects').then(({ rows }) => (rows[0] as { n: number }).n),
    ]);
    const text = `consumed ${tally.consumed} · handled ${tally.ok} · retried ${tally.retried} · dead-lettered ${tally['dead-lettered']} · deduplicated ${tally.deduplicated} · skipped ${tally.skipped} · lag ${Number.isNaN(lag) ? '?' : lag} · effects ${effects}`;
    if (tty) process.stdout.write(`\r${style('bold', text)}\u001b[K`);
    else if (text !== lastLine) console.log(text);
    lastLine = text;
  };

  const stop = Promise.withResolvers<void>();
  process.once('SIGINT', () => stop.resolve());
  process.once('SIGTERM', () => stop.resolve());
  const ticker = setInterval(
    () => {
      void line();
      // Done for good: handled, or dead-lettered after every retry failed (with --flaky that can
      // happen to any event, and a script waiting for handled ones alone would wait forever).
      if (flags.stopAfter !== undefined && tally.ok + tally['dead-lettered'] >= flags.stopAfter) stop.resolve();
    },
    tty ? 500 : 2000,
  );
  await stop.promise;
  clearInterval(ticker);
  await subscriber.stop({ deadlineMs: 10_000 });
  await metricsServer?.close();
  metrics.close();
  await line();
  if (tty) process.stdout.write('\n');
  console.log('Stopped: running work finished and its offsets are committed.');
  await admin.disconnect().catch(() => {});
  await db.close();
}

/** `junction demo …`: runnable examples of the platform, to watch and poke by hand. */
export function demoCommand(): Command {
  const demo = new Command('demo').description('runnable examples to watch and poke by hand');
  demo
    .command('consume')
    .description(
      `subscribe to orders.order as group "${GROUP}" with the full middleware chain (retries, retry topics, dead letters, breaker, timeout, PostgreSQL inbox) and count effects; prints a live line until Ctrl-C`,
    )
    .option('--publish <n>', 'publish this many sample OrderPlaced events first', count, 0)
    .option('--flaky <fraction>', 'make the handler fail retriably this often, e.g. 0.2, to watch retries', ratio, 0)
    .option('--stop-after <n>', 'stop once this many events were done with: handled, or dead-lettered (for scripts)', count)
    .option('--metrics-port <port>', `serve /metrics, /healthz and /readyz on this port (0: any free one)`, port, DEMO_METRICS_PORT)
    .option('--no-metrics', 'serve no metrics')
    .option('--postgres <url>', 'keep the inbox and the effects in this PostgreSQL instead of PGlite under .junction/')
    .option('--brokers <list>', `Kafka bootstrap servers (default: $JUNCTION_KAFKA_BROKERS or ${DEFAULT_BROKERS})`)
    .option(
      '--registry <url>',
      `the registry's Confluent-compatible API (default: $JUNCTION_SCHEMA_REGISTRY_URL or ${DEFAULT_REGISTRY_URL})`,
    )
    .action(consume);
  demo.addCommand(demoLoadCommand());
  return demo;
}
