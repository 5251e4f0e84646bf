import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Stack, startStack, stopStack } from '@junction/stack';

/**
 * Vitest global setup: one Kafka, registry, PostgreSQL and Redis for the whole run, shared by every
 * project.
 *
 * With JUNCTION_KAFKA_BROKERS and JUNCTION_SCHEMA_REGISTRY_URL set, that stack is used and
 * nothing starts; JUNCTION_POSTGRES_URL and JUNCTION_REDIS_URL name its PostgreSQL and Redis
 * (tests that need one fail, saying so, when it is unset). With JUNCTION_TEST_STACK=off (unit runs) nothing starts either, and any
 * test that needs a broker fails saying so. Otherwise a throwaway stack starts on free ports
 * under `.junction/test-stacks/` (in-memory registry, PostgreSQL, Redis) and is stopped and deleted
 * when the run ends.
 *
 * Workers are forked after this runs, so the addresses reach them through the environment.
 * Vitest calls this once per project; the stack is shared through `globalThis` and stopped
 * when the last project's teardown runs.
 */
interface Shared {
  stack: Promise<Stack>;
  users: number;
}

const KEY = Symbol.for('junction.test-stack');
const registry = globalThis as unknown as Record<symbol, Shared | undefined>;

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  // A PII key for the run (unless one is configured), before any early return: publishers of
  // events with personal fields need one, and workers and the processes tests start inherit it.
  if (!process.env.JUNCTION_PII_KEYS && !process.env.JUNCTION_PII_KEYS_FILE) {
    process.env.JUNCTION_PII_KEYS = `test-${process.pid}:${randomBytes(32).toString('base64')}`;
  }
  let shared = registry[KEY];
  if (!shared) {
    if (process.env.JUNCTION_KAFKA_BROKERS && process.env.JUNCTION_SCHEMA_REGISTRY_URL) return undefined;
    if (process.env.JUNCTION_TEST_STACK === 'off') return undefined;
    const root = process.env.JUNCTION_TEST_STACKS ?? join(process.cwd(), '.junction', 'test-stacks');
    const stateDir = join(root, `run-${process.pid}`);
    process.stderr.write(`starting the test stack in ${stateDir}…\n`);
    shared = {
      users: 0,
      stack: startStack({
        stateDir,
        ports: 'auto',
        registry: { storage: 'memory' },
        kafkaConfig: { 'num.partitions': '3' },
        onProgress: (message) => process.stderr.write(`  ${message}\n`),
      }),
    };
    registry[KEY] = shared;
  }
  shared.users += 1;
  const stack = await shared.stack;
  process.env.JUNCTION_KAFKA_BROKERS = stack.brokers.join(',');
  process.env.JUNCTION_SCHEMA_REGISTRY_URL = stack.schemaRegistryUrl;
  if (stack.postgresUrl) process.env.JUNCTION_POSTGRES_URL = stack.postgresUrl;
  if (stack.redisUrl) process.env.JUNCTION_REDIS_URL = stack.redisUrl;
  const owned = shared;
  return async () => {
    owned.users -= 1;
    if (owned.users > 0) return;
    registry[KEY] = undefined;
    await stopStack({ stateDir: stack.stateDir, purge: true, graceMs: 10_000 });
    await rm(stack.stateDir, { recursive: true, force: true });
  };
}
