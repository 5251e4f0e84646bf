import { type FieldProblem, JunctionError } from '@junction/observability';
import type avro from 'avsc';
import type { BackoffOptions } from './backoff.ts';
import { type AvroSchema, avroType, validate } from './contracts/avro.ts';
import { createRegistryAdmin } from './contracts/registry-admin.ts';

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
 * registry, with Junction's logical types (see `avroType`). Schemas and reader/writer resolvers
 * are cached by id after the first lookup.
 */
export interface AvroCodec {
  /** Registers `schema` under `subject` (idempotent) and returns its id. */
  register(subject: string, schema: object): Promise<number>;
  /** The id `schema` has under `subject`, without registering it; `schema.unknown` when it is not there. */
  idOf(subject: string, schema: object): Promise<number>;
  /** The id of the latest schema of `subject`. */
  latestId(subject: string): Promise<number>;
  /** The schema registered under `id`, exactly as registered (custom attributes included). Cached. */
  schema(id: number): Promise<AvroSchema>;
  /** Validates `value` against schema `id` (`event.invalid` with each field path) and frames it. */
  encode(id: number, value: unknown): Promise<Buffer>;
  /** Reads a framed record with its writer schema, resolved to `readerSchema` when given. */
  decode<T>(buffer: Buffer, readerSchema?: AvroSchema): Promise<Decoded<T>>;
  /** The schema of `id` if it was fetched already; undefined otherwise. For hot paths that skip a promise. */
  schemaNow(id: number): AvroSchema | undefined;
  /** Like {@link decode}, synchronously, when the writer schema was fetched already; undefined otherwise. */
  decodeNow<T>(buffer: Buffer, readerSchema?: AvroSchema): Decoded<T> | undefined;
}

/** Confluent framing: magic byte 0, the schema id (4 bytes, big-endian), then the Avro body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = 0;
  head.writeInt32BE(schemaId, 1);
  return Buffer.concat([head, body]);
}

/** The error for a value that does not match its schema, listing each field path and why. */
export function invalidEvent(what: string, problems: FieldProblem[], context: Record<string, unknown> = {}): JunctionError {
  const list = problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
  return new JunctionError('event.invalid', `${what} does not match its schema: ${list}`, { context: { ...context, fields: problems } });
}

/** Schemas kept per codec; ids are immutable, so entries never go stale, only the count is bounded. */
const MAX_CACHED_SCHEMAS = 10_000;

/** Creates an {@link AvroCodec} over the registry at `registryUrl`. */
export function createAvroCodec(options: AvroCodecOptions): AvroCodec {
  const admin = createRegistryAdmin({
    registryUrl: options.registryUrl,
    timeoutMs: options.timeoutMs ?? 5000,
    retries: options.retries ?? 3,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
  });
  const schemas = new Map<number, Promise<AvroSchema>>();
  /** The same schemas once they arrived, for synchronous use. */
  const known = new Map<number, AvroSchema>();
  const schema = (id: number): Promise<AvroSchema> => {
    let found = schemas.get(id);
    if (!found) {
      if (schemas.size >= MAX_CACHED_SCHEMAS) {
        const oldest = schemas.keys().next().value as number;
        schemas.delete(oldest);
        known.delete(oldest);
      }
      found = admin.schemaById(id);
      // A failed lookup is not remembered: the next call asks again.
      found.then(
        (value) => known.set(id, value),
        () => schemas.delete(id),
      );
      schemas.set(id, found);
    }
    return found;
  };
  const resolvers = new WeakMap<object, Map<number, avro.Resolver>>();
  const resolver = (reader: AvroSchema, writerId: number, writer: AvroSchema): avro.Resolver => {
    let byWriter = resolvers.get(reader);
    if (!byWriter) {
      byWriter = new Map();
      resolvers.set(reader, byWriter);
    }
    let found = byWriter.get(writerId);
    if (!found) {
      try {
        found = avroType(reader).createResolver(avroType(writer));
      } catch (error) {
        throw new JunctionError(
          'schema.incompatible',
          `records written with schema ${writerId} cannot be read with the reader schema: ${(error as Error).message}`,
          {
            cause: error,
            context: { schemaId: writerId },
          },
        );
      }
      byWriter.set(writerId, found);
    }
    return found;
  };

  return {
    register: (subject, value) => admin.register(subject, value as AvroSchema),
    idOf: (subject, value) => admin.idOf(subject, value as AvroSchema),
    latestId: async (subject) => (await admin.schemaOf(subject, 'latest')).id,
    schema,
    encode: async (id, value) => {
      const writer = await schema(id);
      const problems = validate(writer, value);
      if (problems.length) throw invalidEvent(`the value for schema ${id}`, problems, { schemaId: id });
      return frame(id, avroType(writer).toBuffer(value));
    },
    schemaNow: (id) => known.get(id),
    decodeNow: <T>(buffer: Buffer, readerSchema?: AvroSchema) => {
      const writer = known.get(schemaIdOf(buffer));
      return writer ? decodeWith<T>(buffer, writer, readerSchema) : undefined;
    },
    decode: async <T>(buffer: Buffer, readerSchema?: AvroSchema) => decodeWith<T>(buffer, await schema(schemaIdOf(buffer)), readerSchema),
  };

  /** The schema id of a framed record; `event.undecodable` when it is not in Confluent framing. */
  function schemaIdOf(buffer: Buffer): number {
    if (buffer.length < 5 || buffer[0] !== 0) {
      throw new JunctionError('event.undecodable', 'record is not in Confluent framing (magic byte 0 and a schema id)', {
        context: { bytes: buffer.length },
      });
    }
    return buffer.readInt32BE(1);
  }

  function decodeWith<T>(buffer: Buffer, writer: AvroSchema, readerSchema: AvroSchema | undefined): Decoded<T> {
    const schemaId = buffer.readInt32BE(1);
    const body = buffer.subarray(5);
    try {
      const value = readerSchema
        ? avroType(readerSchema).fromBuffer(body, resolver(readerSchema, schemaId, writer))
        : avroType(writer).fromBuffer(body);
      return { schemaId, value: value as T };
    } catch (error) {
      if (error instanceof JunctionError) throw error;
      throw new JunctionError(
        'event.undecodable',
        `record does not decode with its writer schema ${schemaId}: ${(error as Error).message}`,
        {
          cause: error,
          context: { schemaId },
        },
      );
    }
  }
}
