import { readFileSync } from 'node:fs';
import { JunctionError } from '@junction/observability';
import { Kafka, type KafkaConfig } from 'kafkajs';
import { z } from 'zod';
import type { KafkaPort } from './kafka/port.ts';

/** SCRAM credentials of a Kafka user. */
export interface KafkaSasl {
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
}

/**
 * Where Kafka is and how to authenticate: plaintext with `brokers` alone, TLS with `ssl`
 * (the CA's PEM text to trust), SASL/SCRAM over TLS with `sasl` too.
 */
export interface KafkaConnection {
  brokers: string[];
  /** TLS; `ca` is PEM text to trust, and without it the system's CAs are trusted. */
  ssl?: { ca?: string | undefined } | undefined;
  sasl?: KafkaSasl | undefined;
}

/** Where a publisher or subscriber gets its Kafka clients: a {@link KafkaConnection} to make them from, a port, or a kafkajs client to use as it is. */
export type KafkaOption = KafkaConnection | KafkaPort | Kafka;

/** Whether `option` is a connection's settings (not a client or port made already). */
export function isKafkaConnection(option: KafkaOption): option is KafkaConnection {
  return !(option instanceof Kafka) && Array.isArray((option as KafkaConnection).brokers);
}

const BROKER = /^[^\s,/]+:\d{1,5}$/;

const envSchema = z
  .object({
    JUNCTION_KAFKA_BROKERS: z
      .string({ error: 'not set; the Kafka bootstrap servers, e.g. 127.0.0.1:9092' })
      .transform((text) =>
        text
          .split(',')
          .map((broker) => broker.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(BROKER, 'each broker is host:port')).min(1, 'names no broker; e.g. 127.0.0.1:9092')),
    JUNCTION_KAFKA_SASL_USERNAME: z.string().trim().min(1, 'is empty').optional(),
    JUNCTION_KAFKA_SASL_PASSWORD: z.string().min(1, 'is empty').optional(),
    JUNCTION_KAFKA_SASL_PASSWORD_FILE: z.string().min(1, 'is empty').optional(),
    JUNCTION_KAFKA_CA_FILE: z.string().min(1, 'is empty').optional(),
  })
  .superRefine((env, ctx) => {
    const hasPassword = env.JUNCTION_KAFKA_SASL_PASSWORD !== undefined || env.JUNCTION_KAFKA_SASL_PASSWORD_FILE !== undefined;
    if (env.JUNCTION_KAFKA_SASL_PASSWORD !== undefined && env.JUNCTION_KAFKA_SASL_PASSWORD_FILE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['JUNCTION_KAFKA_SASL_PASSWORD_FILE'],
        message: 'set either it or JUNCTION_KAFKA_SASL_PASSWORD, not both',
      });
    }
    if (env.JUNCTION_KAFKA_SASL_USERNAME === undefined && hasPassword) {
      ctx.addIssue({ code: 'custom', path: ['JUNCTION_KAFKA_SASL_USERNAME'], message: 'not set, but a password is' });
    }
    if (env.JUNCTION_KAFKA_SASL_USERNAME !== undefined && !hasPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['JUNCTION_KAFKA_SASL_PASSWORD_FILE'],
        message: 'not set (nor JUNCTION_KAFKA_SASL_PASSWORD), but a user name is',
      });
    }
  });

/** Reads a file named by a variable; an unreadable one is a problem of that variable. */
function readNamedFile(variable: string, file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
}

/**
 * The Kafka connection the environment names, checked once with every problem reported together
 * in one `config.invalid` error:
 *
 * - `JUNCTION_KAFKA_BROKERS`: `host:port`, comma-separated (required);
 * - `JUNCTION_KAFKA_SASL_USERNAME` with `JUNCTION_KAFKA_SASL_PASSWORD_FILE` (a mounted secret)
 *   or `JUNCTION_KAFKA_SASL_PASSWORD`: SCRAM-SHA-512, always over TLS;
 * - `JUNCTION_KAFKA_CA_FILE`: PEM certificates to trust; TLS is on when it or SASL is set, and
 *   without it the system's CAs are trusted.
 */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConnection {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const caFile = env.JUNCTION_KAFKA_CA_FILE;
  const passwordFile = env.JUNCTION_KAFKA_SASL_PASSWORD_FILE;
  const ca = caFile ? readNamedFile('JUNCTION_KAFKA_CA_FILE', caFile, problems) : undefined;
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`JUNCTION_KAFKA_CA_FILE: ${caFile} holds no PEM certificate`);
  }
  const filePassword = passwordFile ? readNamedFile('JUNCTION_KAFKA_SASL_PASSWORD_FILE', passwordFile, problems)?.trim() : undefined;
  if (filePassword === '') problems.push(`JUNCTION_KAFKA_SASL_PASSWORD_FILE: ${passwordFile} is empty`);
  if (!parsed.success || problems.length > 0) {
    throw new JunctionError('config.invalid', `the Kafka connection is not configured right: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  const { JUNCTION_KAFKA_BROKERS: brokers, JUNCTION_KAFKA_SASL_USERNAME: username, JUNCTION_KAFKA_SASL_PASSWORD: password } = parsed.data;
  const secret = filePassword ?? password;
  const sasl: KafkaSasl | undefined = username && secret ? { mechanism: 'scram-sha-512', username, password: secret } : undefined;
  // SASL is never sent in clear: TLS is on with it even without a CA file (the system's CAs then).
  const ssl = ca !== undefined ? { ca } : sasl ? {} : undefined;
  return { brokers, ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

/** The kafkajs `ssl` and `sasl` settings of a connection. */
export function kafkaSecurityConfig(connection: KafkaConnection): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const tls = connection.ssl !== undefined || connection.sasl !== undefined;
  const ssl = connection.ssl?.ca ? { ssl: { ca: [connection.ssl.ca] } } : tls ? { ssl: true } : {};
  return { ...ssl, ...(connection.sasl ? { sasl: { ...connection.sasl } } : {}) };
}
