import { StackError } from './errors.ts';

/** Where a running stack answers: what a client needs to connect. */
export interface StackEndpoints {
  brokers: string[];
  /** The Confluent-compatible API (`…/apis/ccompat/v7`). */
  schemaRegistryUrl: string;
}

/**
 * The stack named by `JUNCTION_KAFKA_BROKERS` (comma-separated) and
 * `JUNCTION_SCHEMA_REGISTRY_URL`. Tests call this: with no stack named it fails loudly
 * instead of letting a test pass without Kafka.
 */
export function stackFromEnv(env: NodeJS.ProcessEnv = process.env): StackEndpoints {
  const brokers = (env.JUNCTION_KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const schemaRegistryUrl = env.JUNCTION_SCHEMA_REGISTRY_URL?.trim();
  if (brokers.length === 0 || !schemaRegistryUrl) {
    const missing = [brokers.length === 0 ? 'JUNCTION_KAFKA_BROKERS' : '', schemaRegistryUrl ? '' : 'JUNCTION_SCHEMA_REGISTRY_URL'].filter(
      Boolean,
    );
    throw new StackError('stack-missing', `no Kafka stack is named: ${missing.join(' and ')} not set`, {
      hint: 'run the tests with ./junction test (it starts a stack), or point these variables at a running one (./junction stack up)',
    });
  }
  return { brokers, schemaRegistryUrl };
}

/**
 * The PostgreSQL named by `JUNCTION_POSTGRES_URL`, e.g. `postgres://junction@127.0.0.1:5432/junction`.
 * Like {@link stackFromEnv}, it fails loudly when none is named.
 */
export function postgresFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.JUNCTION_POSTGRES_URL?.trim();
  if (!url) {
    throw new StackError('stack-missing', 'no PostgreSQL is named: JUNCTION_POSTGRES_URL not set', {
      hint: 'run the tests with ./junction test (it starts PostgreSQL with the stack), or point it at a running one (./junction stack up)',
    });
  }
  return url;
}

/**
 * The Redis named by `JUNCTION_REDIS_URL`, e.g. `redis://127.0.0.1:6379`. Like
 * {@link stackFromEnv}, it fails loudly when none is named.
 */
export function redisFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.JUNCTION_REDIS_URL?.trim();
  if (!url) {
    throw new StackError('stack-missing', 'no Redis is named: JUNCTION_REDIS_URL not set', {
      hint: 'run the tests with ./junction test (it starts Redis with the stack), or point it at a running one (./junction stack up)',
    });
  }
  return url;
}
