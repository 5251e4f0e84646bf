import { JunctionError } from '@junction/observability';
import { isKafkaConnection, type KafkaConnection, type KafkaOption } from '../kafka-connection.ts';
import { kafkaPort } from './port.ts';

// The one place where a Kafka client's failures become JunctionErrors: decisions branch on the
// client's error names and protocol types here, and on Junction's codes everywhere else.

/** kafkajs error fields that decisions branch on, and where it keeps the errors it wraps. */
interface KafkaJsFailure {
  name?: string;
  type?: string;
  message?: string;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

const TIMEOUTS = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSTimeout']);
/** Broker answers that blame the records themselves: sending them again cannot help. */
const RECORD_ERRORS = new Set(['INVALID_TIMESTAMP', 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

/** The innermost cause kafkajs wraps in its retry errors. */
function rootCause(error: unknown): KafkaJsFailure {
  let current = (error ?? {}) as KafkaJsFailure;
  // kafkajs keeps the last failure in `cause` (older wrappers in `originalError`).
  while (current.name === 'KafkaJSNumberOfRetriesExceeded' && (current.originalError ?? current.cause))
    current = (current.originalError ?? current.cause) as KafkaJsFailure;
  return current;
}

/** The innermost failure kafkajs reports, as `<protocol error or name>: <message>`, for messages. */
export function kafkaFailureReason(error: unknown): string {
  const cause = rootCause(error);
  return `${cause.type ?? cause.name ?? 'Error'}: ${cause.message ?? String(error)}`;
}

/** Turns a kafkajs failure into a JunctionError; decisions branch on its name and protocol type, not on text. */
export function kafkaError(error: unknown, what: string, context: Record<string, unknown>): JunctionError {
  if (error instanceof JunctionError) return error;
  const denied = brokerDenied(error, what, context);
  if (denied) return denied;
  const cause = rootCause(error);
  const message = cause.message ?? String(error);
  if (cause.type === 'UNKNOWN_TOPIC_OR_PARTITION' || cause.name === 'KafkaJSTopicMetadataNotLoaded') {
    const topic = context.topic ?? context.topics;
    return new JunctionError('topic.unknown', `${what}: topic ${topic} does not exist; create it with \`./junction schemas register\``, {
      cause: error,
      context,
    });
  }
  if (RECORD_ERRORS.has(cause.type ?? '')) {
    return new JunctionError('event.invalid', `${what}: Kafka refused the records (${cause.type}: ${message})`, { cause: error, context });
  }
  if (TIMEOUTS.has(cause.name ?? ''))
    return new JunctionError('timeout', `${what}: Kafka did not answer in time (${message})`, { cause: error, context });
  return new JunctionError('broker.unavailable', `${what}: ${message}`, { cause: error, context });
}

/** Broker answers that mean the user may not do what it asked. */
const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

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
const CHECK_RETRY = { retries: 2, initialMs: 100, maxMs: 500 };

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
  const admin = kafkaPort(connection, {
    clientId: 'junction-group-check',
    onLog: (entry) => note(entry.error),
    connectionTimeoutMs: Math.min(timeoutMs, 3000),
    requestTimeoutMs: timeoutMs,
    // A new client first finds no broker in its pool and loads metadata: that takes one retry.
    retry: CHECK_RETRY,
  }).admin({ retry: CHECK_RETRY });
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
  if (isKafkaConnection(kafka) && (await groupAuthorizationFailed(kafka, context.group, timeoutMs))) {
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
