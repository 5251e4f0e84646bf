import { JunctionError } from '@junction/observability';
import type { AvroCodec, Decoded } from '../codec.ts';
import { type Catalog, eventVersion } from '../contracts/catalog.ts';
import { decryptEventPii } from '../pii/event.ts';
import { type PiiKeyring, piiKeyringFromEnv } from '../pii/keyring.ts';
import type { EventContext, Handler, Middleware } from './types.ts';

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

/** The version in a `ce_type` of `<type>.v<n>`; 0 when it has none. By hand: it runs for every record. */
export function ceTypeVersion(ceType: string | undefined): number {
  if (ceType === undefined) return 0;
  const at = ceType.lastIndexOf('.v');
  // A name before it; digits after it (none: the loop leaves 0).
  if (at < 1) return 0;
  let version = 0;
  for (let i = at + 2; i < ceType.length; i += 1) {
    const digit = ceType.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 0;
    version = version * 10 + digit;
  }
  return version;
}
/**
 * Where `identify` leaves the record's type for `decode`. The subscriber makes each context
 * with it (undefined), so that every context has one shape on the per-record path.
 */
export const IDENTIFIED = Symbol('junction.identified-type');

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
    if (known !== undefined) return identified(ctx, known, next);
    // A schema id seen for the first time: one registry lookup, ever.
    const now = options.codec.schemaNow(schemaId);
    const named = now ? Promise.resolve(fullname(now)) : options.codec.schema(schemaId).then(fullname);
    return named.then((type) => {
      types.set(schemaId, type);
      return identified(ctx, type, next);
    });
  };

  /** Hands a record of `type` on to `next`, or skips it when nobody here handles its type. */
  const identified = (ctx: EventContext, type: string, next: Handler): Promise<void> => {
    if (!options.handled.has(type)) {
      ctx.outcome = 'skipped';
      return Promise.resolve();
    }
    (ctx as Identified)[IDENTIFIED] = type;
    return next(ctx);
  };

  /** Per record: no promise of its own once the value is read (the registry answered for its schema before). */
  const decodeValue: Middleware = (next) => (ctx) => {
    const { record } = ctx;
    const type = (ctx as Identified)[IDENTIFIED];
    if (type === undefined || !record.value) return Promise.reject(new JunctionError('internal', 'decode ran without identify before it'));
    const reader = readers.get(type);
    if (!reader)
      return Promise.reject(
        new JunctionError('schema.unknown', `no reader schema for ${type} in the catalog`, { context: { ...at(record), type } }),
      );
    const value = record.value;
    let decoded: ReturnType<AvroCodec['decodeNow']>;
    try {
      decoded = options.codec.decodeNow(value, reader);
    } catch (error) {
      return Promise.reject(error);
    }
    if (decoded) return handOn(ctx, type, reader, decoded, next);
    return options.codec.decode(value, reader).then((later) => handOn(ctx, type, reader, later, next));
  };

  /** Sets `ctx.event` from the decoded value (its personal fields decrypted) and runs the rest of the chain. */
  const handOn = (
    ctx: EventContext,
    type: string,
    reader: Record<string, unknown>,
    decoded: Decoded<unknown>,
    next: Handler,
  ): Promise<void> => {
    const { record } = ctx;
    const id = record.headers.ce_id ?? '';
    let data = decoded.value;
    if (pii) {
      try {
        data = decryptEventPii(reader, { type, id }, data, pii);
      } catch (error) {
        if (error instanceof JunctionError) Object.assign(error.context, at(record));
        return Promise.reject(error);
      }
    }
    ctx.event = { id, type, version: ceTypeVersion(record.headers.ce_type), schemaId: decoded.schemaId, data };
    return next(ctx);
  };
  return { identify, decode: decodeValue };
}

/** `namespace.name` of a record schema as the registry holds it. */
function fullname(schema: Record<string, unknown>): string {
  const name = String(schema.name);
  return name.includes('.') || !schema.namespace ? name : `${String(schema.namespace)}.${name}`;
}

function at(record: { topic: string; partition: number; offset: string }): Record<string, unknown> {
  return { topic: record.topic, partition: record.partition, offset: record.offset };
}
