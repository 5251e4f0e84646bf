import { JunctionError } from '@junction/observability';
import type { AvroCodec } from '../codec.ts';
import { type Catalog, eventVersion } from '../contracts/catalog.ts';
import { decryptEventPii } from '../pii/event.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';
import type { EventContext, Middleware } from './types.ts';

/** Options of {@link decode}. */
export interface DecodeOptions {
  codec: AvroCodec;
  /** The catalog the service was built with: its latest version of each type is the reader schema. */
  catalog: Catalog;
  /** The event types the subscriber handles; a record of another type is skipped, not failed. */
  handled: ReadonlySet<string>;
  /**
   * The keys that decrypt `junction.pii` fields before the handler sees them. Default: the
   * environment's. Without keys (none configured, or `false`) the handler sees the ciphertext
   * strings: a consumer that does not need personal data never holds the key.
   */
  pii?: PiiKeyring | false;
}

const CE_TYPE = /^(.+)\.v(\d+)$/;
/** Where `identify` leaves the record's type for `decode`. */
const IDENTIFIED = Symbol('junction.identified-type');

/**
 * Reads the record's Avro value with the writer's schema from the registry and resolves it to the
 * reader schema the service was built with, into `ctx.event`. Bad bytes, an unknown schema id or
 * a writer schema the reader cannot resolve fail at once and for good (non-retriable: they go to
 * the dead-letter topic); a registry that does not answer fails retriably. With a PII keyring,
 * personal fields are decrypted; a ciphertext under a key the ring lacks, or one that does not
 * authenticate, is undecodable too. The two stages of {@link decodeStages} in one.
 */
export function decode(options: DecodeOptions): Middleware {
  const stages = decodeStages(options);
  return (next) => stages.identify(stages.decode(next));
}

/**
 * Decoding in two stages, so that work may run between them:
 * - `identify` checks the framing and names the record's type from its writer schema (one
 *   registry lookup per schema id, ever); a record of a type the subscriber does not handle is
 *   skipped here (`ctx.outcome = 'skipped'`), before the inbox takes a transaction and a row
 *   for an event nobody will handle;
 * - `decode` reads the value into `ctx.event` (see {@link decode}).
 */
export function decodeStages(options: DecodeOptions): { identify: Middleware; decode: Middleware } {
  const readers = new Map(options.catalog.events.map((event) => [event.type, eventVersion(event).schema]));
  const pii = options.pii === undefined ? piiKeyringFromEnv() : options.pii || undefined;
  /** The record fullname of each writer schema id seen; ids never change meaning. */
  const types = new Map<number, string>();
  /** What `identify` found, for `decode` further down the chain. */
  type Identified = EventContext & { [IDENTIFIED]?: string };

  /** Per record: no promise of its own once the schema id is known. */
  const identify: Middleware = (next) => (ctx) => {
    const { record } = ctx;
    if (!record.value) return Promise.reject(new JunctionError('event.undecodable', 'record has no value', { context: at(ctx.record) }));
    if (record.value.length < 5 || record.value[0] !== 0) {
      return Promise.reject(
        new JunctionError('event.undecodable', 'record is not in Confluent framing (magic byte 0 and a schema id)', {
          context: { ...at(record), bytes: record.value.length },
        }),
      );
    }
    const schemaId = record.value.readInt32BE(1);
    const known = types.get(schemaId);
    const go = (type: string): Promise<void> => {
      if (!options.handled.has(type)) {
        ctx.outcome = 'skipped';
        return Promise.resolve();
      }
      (ctx as Identified)[IDENTIFIED] = type;
      return next(ctx);
    };
    if (known !== undefined) return go(known);
    // A schema id seen for the first time: one registry lookup, ever.
    const now = options.codec.schemaNow(schemaId);
    const named = now ? Promise.resolve(fullname(now)) : options.codec.schema(schemaId).then(fullname);
    return named.then((type) => {
      types.set(schemaId, type);
      return go(type);
    });
  };

  const decodeValue: Middleware = (next) => async (ctx) => {
    const { record } = ctx;
    const type = (ctx as Identified)[IDENTIFIED];
    if (type === undefined || !record.value) throw new JunctionError('internal', 'decode ran without identify before it');
    const reader = readers.get(type);
    if (!reader)
      throw new JunctionError('schema.unknown', `no reader schema for ${type} in the catalog`, { context: { ...at(record), type } });
    const decoded = options.codec.decodeNow(record.value, reader) ?? (await options.codec.decode(record.value, reader));
    const schemaId = record.value.readInt32BE(1);
    const version = Number(CE_TYPE.exec(record.headers.ce_type ?? '')?.[2] ?? 0);
    const id = record.headers.ce_id ?? '';
    let data = decoded.value;
    if (pii) {
      try {
        data = decryptEventPii(reader, { type, id }, data, pii);
      } catch (error) {
        if (error instanceof JunctionError) Object.assign(error.context, at(record));
        throw error;
      }
    }
    ctx.event = { id, type, version, schemaId, data };
    await next(ctx);
  };
  return { identify, decode: decodeValue };
}

/** `namespace.name` of a record schema as the registry holds it. */
function fullname(schema: Record<string, unknown>): string {
  const name = String(schema.name ?? '');
  return name.includes('.') || !schema.namespace ? name : `${String(schema.namespace)}.${name}`;
}

function at(record: { topic: string; partition: number; offset: string }): Record<string, unknown> {
  return { topic: record.topic, partition: record.partition, offset: record.offset };
}
