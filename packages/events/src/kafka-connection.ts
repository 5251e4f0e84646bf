import { readFileSync } from 'node:fs';
import { JunctionError } from '@junction/observability';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { z } from 'zod';

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

/** A kafkajs client to use as it is, or a {@link KafkaConnection} to make one from. */
export type KafkaOption = Kafka | KafkaConnection;

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

/** The SASL user of a client option, for error messages; undefined when unknown or none. */
export function kafkaUser(option: KafkaOption): string | undefined {
  return option instanceof Kafka ? undefined : option.sasl?.username;
}

/** A kafkajs client for `option`: the given one, or a new one with the connection's TLS and SASL and these settings. */
export function kafkaClientFor(option: KafkaOption, config: Omit<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>): Kafka {
  if (option instanceof Kafka) return option;
  return new Kafka({ ...config, brokers: option.brokers, ...kafkaSecurityConfig(option) });
}

/** Broker answers that mean the user may not do what it asked. */
const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

interface KafkaJsFailure {
  name?: string;
  type?: string;
  message?: string;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

/** The first error in kafkajs's wrapping (retries, aggregates, causes) that `matches`. */
function findFailure(error: unknown, matches: (e: KafkaJsFailure) => boolean, depth = 0): KafkaJsFailure | undefined {
  if (!error || typeof error !== 'object' || depth > 8) return undefined;
  const e = error as KafkaJsFailure;
  if (matches(e)) return e;
  for (const inner of [e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = findFailure(inner, matches, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The first error in kafkajs's wrapping that says access was refused. */
const findDenial = (error: unknown) =>
  findFailure(
    error,
    (e) => AUTHORIZATION_TYPES.has(e.type ?? '') || e.type === 'SASL_AUTHENTICATION_FAILED' || e.name === 'KafkaJSSASLAuthenticationError',
  );

/** What a denial concerns, for its message: the user and the topic(s) or group. */
export interface DenialContext {
  user?: string | undefined;
  topic?: unknown;
  topics?: unknown;
  group?: unknown;
  [key: string]: unknown;
}

/**
 * `broker.denied` (not retriable: asking again cannot help) when Kafka refused the user's
 * credentials or its ACLs refused the request; undefined for any other failure. The message
 * names the user, what it was refused and where to change that.
 */
export function brokerDenied(error: unknown, what: string, context: DenialContext): JunctionError | undefined {
  const denial = findDenial(error);
  if (!denial) return undefined;
  const user = context.user ? `user ${context.user}` : 'the configured user (none: is JUNCTION_KAFKA_SASL_USERNAME set?)';
  if (!AUTHORIZATION_TYPES.has(denial.type ?? '')) {
    return new JunctionError(
      'broker.denied',
      `${what}: Kafka refused the credentials of ${user} (${denial.message ?? 'SASL authentication failed'}); check JUNCTION_KAFKA_SASL_USERNAME and its password (JUNCTION_KAFKA_SASL_PASSWORD_FILE): a local secure stack keeps them in .junction/secrets/kafka/<user>.password`,
      { cause: error, context: { ...context, reason: denial.type ?? denial.name } },
    );
  }
  const named = [context.topic, context.topics].flat().filter((t) => t !== undefined && t !== '');
  const topics = named.length > 1 ? `one of the topics ${named.join(', ')}` : named.length === 1 ? `topic ${String(named[0])}` : '';
  const where =
    denial.type === 'GROUP_AUTHORIZATION_FAILED'
      ? `consumer group ${String(context.group ?? '?')}`
      : denial.type === 'CLUSTER_AUTHORIZATION_FAILED'
        ? 'the cluster'
        : denial.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'
          ? 'its transactional id'
          : topics || 'a topic';
  return new JunctionError(
    'broker.denied',
    `${what}: Kafka's ACLs deny ${user} on ${where} (${denial.type}). A service writes the topics it owns or is listed under writers of, reads those it subscribes to, and owns its <service>.* retry and dead-letter topics: grant it in schemas/topics.yaml (owner/writers/subscribers), then apply the ACLs (./junction stack up --secure applies them; ./junction stack acls shows them)`,
    { cause: error, context: { ...context, reason: denial.type } },
  );
}

/** How long {@link groupDenied} waits for the brokers' answer. */
const GROUP_CHECK_TIMEOUT_MS = 3000;
const CHECK_RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 500 };

/**
 * Whether the brokers refuse `group` to the connection's user, asked once within `timeoutMs`.
 * kafkajs keeps FindCoordinator's error code to itself (it logs it at debug level, then says only
 * that no coordinator was found), so a client of its own describes the group and reads the code
 * from the `error.type` field of its log entries; the describe's own error counts too.
 * (`KAFKAJS_LOG_LEVEL` in the environment overrides the level: then nothing is confirmed.)
 */
async function groupAuthorizationFailed(connection: KafkaConnection, group: string, timeoutMs: number): Promise<boolean> {
  let refused = false;
  const note = (error: unknown) => {
    if (findFailure(error, (e) => e.type === 'GROUP_AUTHORIZATION_FAILED')) refused = true;
  };
  const kafka = new Kafka({
    clientId: 'junction-group-check',
    brokers: connection.brokers,
    ...kafkaSecurityConfig(connection),
    logLevel: logLevel.DEBUG,
    logCreator: () => (entry) => note((entry.log as { error?: unknown }).error),
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    // A new client first finds no broker in its pool and loads metadata: that takes one retry.
    retry: CHECK_RETRY,
  });
  const admin = kafka.admin({ retry: CHECK_RETRY });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.describeGroups([group])),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch (error) {
    note(error);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
  return refused;
}

/**
 * {@link brokerDenied} for a consumer group's failures, and what kafkajs's "no group coordinator
 * found" means. That one is a denial only when the brokers confirm it (asked once, briefly): a new
 * cluster has no coordinator until it made `__consumer_offsets`, and a failover moves it, so an
 * unconfirmed one is `broker.unavailable` (retriable). Undefined for any other failure.
 */
export async function groupDenied(
  error: unknown,
  what: string,
  context: DenialContext & { group: string },
  kafka: KafkaOption,
  timeoutMs = GROUP_CHECK_TIMEOUT_MS,
): Promise<JunctionError | undefined> {
  const denied = brokerDenied(error, what, context);
  if (denied) return denied;
  const notFound = findFailure(error, (e) => e.name === 'KafkaJSGroupCoordinatorNotFound');
  if (!notFound) return undefined;
  // Without a connection of our own (a kafkajs client was given) nobody can ask in its name.
  if (!(kafka instanceof Kafka) && (await groupAuthorizationFailed(kafka, context.group, timeoutMs))) {
    const confirmed = Object.assign(new Error(`FindCoordinator for group ${context.group}: GROUP_AUTHORIZATION_FAILED`), {
      type: 'GROUP_AUTHORIZATION_FAILED',
      cause: error,
    });
    return brokerDenied(confirmed, what, context);
  }
  return new JunctionError(
    'broker.unavailable',
    `${what}: no broker named a coordinator for consumer group ${context.group} (a new cluster makes one once its __consumer_offsets topic exists; a failover moves it); try again, and if it lasts, check the brokers (./junction stack status)`,
    { cause: error, context: { ...context, reason: notFound.name } },
  );
}
