import { type KafkaConnection, type KafkaPort, kafkaConnectionFromEnv, kafkaPort } from '@junction/events';
import { readStackSecurity } from '@junction/stack';
import type { Admin } from 'kafkajs';
import { stateDir } from './paths.ts';

const START_HINT = 'start the local stack with ./junction up (or ./junction stack up), or point --brokers at a running one';

/**
 * How the CLI reaches `brokers`: as the environment's SASL user when one is set, as the admin of
 * the local secure stack when they are its brokers, else in plaintext.
 */
export async function cliConnection(brokers: string[], env: NodeJS.ProcessEnv = process.env): Promise<KafkaConnection> {
  if (env.JUNCTION_KAFKA_SASL_USERNAME) return kafkaConnectionFromEnv({ ...env, JUNCTION_KAFKA_BROKERS: brokers.join(',') });
  const security = await readStackSecurity(stateDir()).catch(() => undefined);
  const admin = security?.connection('admin');
  if (admin && brokers.some((broker) => admin.brokers.includes(broker))) return admin;
  return { brokers };
}

/** The CLI's Kafka client: quiet, and quick to give up on a broker that does not answer. */
export function cliKafka(target: string[] | KafkaConnection): KafkaPort {
  return kafkaPort(Array.isArray(target) ? { brokers: target } : target, {
    clientId: 'junction-cli',
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 15_000,
    retry: { retries: 2, initialMs: 200 },
  });
}

/** An error for people: one line of what went wrong and what to do. */
export const unreachable = (brokers: string[], cause: unknown): Error =>
  new Error(`Kafka at ${brokers.join(',')} does not answer → ${START_HINT}`, { cause });

/** Connects an admin client, failing with one line when Kafka does not answer; call `disconnect` when done. */
export async function connectAdmin(kafka: KafkaPort, brokers: string[]): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    // connect() can succeed against a half-started broker; a metadata call proves it answers.
    await admin.listTopics();
  } catch (error) {
    await admin.disconnect().catch(() => {});
    throw unreachable(brokers, error);
  }
  return admin;
}

/** Fails with one line when `topic` is not in the cluster, saying how to find the right name. */
export async function requireTopic(admin: Admin, topic: string, what: string): Promise<void> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) {
    throw new Error(`there is no topic ${topic} → ${what}`);
  }
}

/** The Kafka brokers a command talks to: its `--brokers`, else $JUNCTION_KAFKA_BROKERS, else `./junction up`'s. */
export function brokersOf(flag: string | undefined, fallback: string): string[] {
  return (flag ?? process.env.JUNCTION_KAFKA_BROKERS ?? fallback)
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}
