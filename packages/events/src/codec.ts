import { JunctionError } from '@junction/observability';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type BackoffOptions, retrying } from './backoff.ts';

type Middleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];
type DecodeOptions = NonNullable<Parameters<SchemaRegistry['decode']>[1]>;
type ReaderSchema = NonNullable<NonNullable<DecodeOptions[SchemaType.AVRO]>['readerSchema']>;

/** A mappersmith middleware that bounds every registry request. */
const timeout =
  (ms: number): Middleware =>
  () => ({ request: (request) => request.enhance({ timeout: ms }) });

/** True when anything answers HTTP at `url` within a second. */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, multiplier: 2, maxMs: 2000, jitter: 0.2 };

/** Options of {@link createAvroCodec}. */
export interface AvroCodecOptions {
  /** The Confluent-compatible registry API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  registryUrl: string;
  /** Per request. Default 5000 ms. */
  timeoutMs?: number;
  /** Retries of a call that failed retriably (registry unreachable, 5xx). Default 3. */
  retries?: number;
  /** Waits between retries. Default 100 ms doubling to 2 s, ±20 %. */
  backoff?: BackoffOptions;
}

/** A decoded record: the writer's schema id and the value read with the reader schema. */
export interface Decoded<T> {
  schemaId: number;
  value: T;
}

/**
 * Avro in Confluent framing (magic byte 0, 4-byte schema id, Avro binary) against a schema
 * registry. Schemas are cached by id after the first lookup.
 */
export interface AvroCodec {
  /** Registers `schema` under `subject` (idempotent) and returns its id. */
  register(subject: string, schema: object): Promise<number>;
  /** The id of the latest schema of `subject`. */
  latestId(subject: string): Promise<number>;
  /** The schema registered under `id`. */
  schema(id: number): Promise<object>;
  /** Validates `value` against schema `id` and frames it. */
  encode(id: number, value: unknown): Promise<Buffer>;
  /** Reads a framed record with its writer schema, resolved to `readerSchema` when given. */
  decode<T>(buffer: Buffer, readerSchema?: object): Promise<Decoded<T>>;
}

/** Fields of the errors `@kafkajs/confluent-schema-registry` and mappersmith throw. */
interface ClientError {
  name?: string;
  status?: number;
  paths?: string[][];
  message?: string;
}

/** Turns a registry client failure into a JunctionError; decisions branch on status, not text. */
export function registryError(error: unknown, context: Record<string, unknown>): JunctionError {
  if (error instanceof JunctionError) return error;
  const e = (error ?? {}) as ClientError;
  const message = e.message ?? String(error);
  if (e.name === 'ConfluentSchemaRegistryValidationError') {
    const fields = (e.paths ?? []).map((path) => path.join('.'));
    return new JunctionError(
      'event.invalid',
      `event does not match its schema: ${fields.length ? `invalid ${fields.join(', ')}` : message}`,
      {
        cause: error,
        context: { ...context, fields },
      },
    );
  }
  if (e.status === 409) return new JunctionError('schema.incompatible', message, { cause: error, context });
  if (e.status === 404) return new JunctionError('schema.unknown', message, { cause: error, context });
  if (e.status === 422)
    return new JunctionError('schema.incompatible', `the registry rejected the schema: ${message}`, { cause: error, context });
  if (e.name === 'ConfluentSchemaRegistryArgumentError') return new JunctionError('event.undecodable', message, { cause: error, context });
  if (e.status === undefined || e.status === 0 || e.status >= 500 || e.status === 408 || e.status === 429) {
    return new JunctionError('registry.unavailable', `schema registry unavailable: ${message}`, { cause: error, context });
  }
  return new JunctionError('internal', message, { cause: error, context });
}

/** Creates an {@link AvroCodec} over the registry at `registryUrl`. */
export function createAvroCodec(options: AvroCodecOptions): AvroCodec {
  const registry = new SchemaRegistry({
    host: options.registryUrl,
    clientId: 'junction',
    // Retries are ours (below): the client's own do not retry a refused connection.
    retry: { retries: 0 },
    middlewares: [timeout(options.timeoutMs ?? 5000)],
  });
  const retry = { retries: options.retries ?? 3, ...(options.backoff ?? DEFAULT_BACKOFF) };
  const at = <T>(context: Record<string, unknown>, call: () => Promise<T>): Promise<T> =>
    retrying(
      async () => {
        try {
          return await call();
        } catch (error) {
          // mappersmith reports "no answer at all" as HTTP 400: ask whether anything answers.
          const status = (error as ClientError | undefined)?.status;
          if (status === 400 && !(await answers(options.registryUrl))) {
            throw new JunctionError('registry.unavailable', `schema registry at ${options.registryUrl} does not answer`, {
              cause: error,
              context,
            });
          }
          throw registryError(error, context);
        }
      },
      { ...retry, retriable: (error) => error instanceof JunctionError && error.retriable },
    );
  return {
    register: (subject, schema) =>
      at({ subject }, async () => (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject })).id),
    latestId: (subject) => at({ subject }, () => registry.getLatestSchemaId(subject)),
    // The client hands back an avsc Type; callers want the schema as JSON.
    schema: (id) => at({ schemaId: id }, async () => ((await registry.getSchema(id)) as unknown as { schema(): object }).schema()),
    encode: (id, value) => at({ schemaId: id }, () => registry.encode(id, value)),
    decode: <T>(buffer: Buffer, readerSchema?: object) => {
      if (buffer.length < 5 || buffer[0] !== 0) {
        return Promise.reject(
          new JunctionError('event.undecodable', 'record is not in Confluent framing (magic byte 0 and a schema id)', {
            context: { bytes: buffer.length },
          }),
        );
      }
      const schemaId = buffer.readInt32BE(1);
      return at({ schemaId }, async () => {
        const value = (await registry.decode(
          buffer,
          readerSchema ? { [SchemaType.AVRO]: { readerSchema: readerSchema as ReaderSchema } } : undefined,
        )) as T;
        return { schemaId, value };
      });
    },
  };
}
