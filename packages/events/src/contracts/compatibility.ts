import type avro from 'avsc';
import { type AvroSchema, avroType } from './avro.ts';
import type { Compatibility } from './catalog.ts';

/** Why a reader schema cannot read what a writer schema wrote, at one field. */
export interface SchemaBreak {
  /** Dotted field path (`lines[].quantity`), or `(event)` for the top-level record. */
  field: string;
  /** The Avro resolution rule that is broken. */
  rule: string;
  /** One line for people: field, what changed, who cannot read whom, and the rule. */
  message: string;
}

/** A compatibility break between two versions of one subject. */
export interface CompatibilityProblem extends SchemaBreak {
  subject?: string;
  /** The version whose events cannot be read (the writer). */
  from: number;
  /** The version that cannot read them (the reader). */
  to: number;
}

/** How the two sides of a check are named in messages, e.g. `v2` reading `v1`. */
export interface SchemaLabels {
  reader: string;
  writer: string;
  /** Which side is the later version, so a missing field reads as "added" or "removed". */
  newer?: 'reader' | 'writer';
}

/** The rules of Avro schema resolution that {@link schemaBreaks} names. */
export const RESOLUTION_RULES = {
  fieldDefault: 'reader field missing in writer needs a default',
  promotion: 'types must match or promote: int→long/float/double, long→float/double, float→double, string↔bytes',
  enumSymbol: 'every writer enum symbol must be in the reader, unless the reader enum has a default',
  unionBranch: 'every writer union branch needs a matching reader branch',
  recordName: 'record names must match, or the reader must list the writer name as an alias',
  fixedSize: 'fixed sizes must match',
  decimal: 'decimal scale must match and precision must not shrink',
  avro: 'Avro schema resolution',
} as const;

type Named = avro.Type & { aliases?: string[] };

function canRead(reader: avro.Type, writer: avro.Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

function avscMessage(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The kind of a type for matching: logical types and wrapped/unwrapped unions by their family. */
function kind(type: avro.Type): string {
  const name = type.typeName;
  if (name.startsWith('union')) return 'union';
  if (name === 'error') return 'record';
  return name;
}

/** A short name of a type for messages: `int`, `record Address`, `decimal(12,2)`, `union [null, string]`. */
export function describeType(type: avro.Type): string {
  const name = kind(type);
  if (name === 'logical:decimal') {
    const { precision, scale } = type as unknown as { precision: number; scale: number };
    return `decimal(${precision},${scale})`;
  }
  if (name.startsWith('logical:')) return name.slice('logical:'.length);
  if (name === 'record' || name === 'enum' || name === 'fixed') return `${name} ${type.name ?? ''}`.trim();
  if (name === 'array') return `array of ${describeType((type as avro.types.ArrayType).itemsType)}`;
  if (name === 'map') return `map of ${describeType((type as avro.types.MapType).valuesType as avro.Type)}`;
  if (name === 'union') return `union [${(type as avro.types.UnwrappedUnionType).types.map(describeType).join(', ')}]`;
  return name;
}

const nameMatches = (reader: Named, writer: avro.Type): boolean =>
  reader.name === writer.name || (reader.aliases ?? []).includes(writer.name ?? '');

/** Walks a reader and a writer type side by side; descends only where avsc says they do not resolve. */
class Explainer {
  readonly breaks: SchemaBreak[] = [];
  readonly #labels: SchemaLabels;

  constructor(labels: SchemaLabels) {
    this.#labels = labels;
  }

  add(path: string, what: string, rule: string): void {
    const field = path || '(event)';
    const { reader, writer } = this.#labels;
    this.breaks.push({
      field,
      rule,
      message: `${path ? `field ${path}` : 'the event'}: ${what}, so a ${reader} reader cannot read ${writer} events (${rule})`,
    });
  }

  walk(reader: avro.Type, writer: avro.Type, path: string): void {
    if (canRead(reader, writer)) return;
    const readerKind = kind(reader);
    const writerKind = kind(writer);
    if (writerKind === 'union') {
      for (const branch of (writer as avro.types.UnwrappedUnionType).types) {
        if (canRead(reader, branch)) continue;
        if (readerKind === 'union') this.unionBranch(reader as avro.types.UnwrappedUnionType, branch, path);
        else this.walk(reader, branch, path);
      }
      return;
    }
    if (readerKind === 'union') {
      this.unionBranch(reader as avro.types.UnwrappedUnionType, writer, path);
      return;
    }
    if (readerKind.startsWith('logical:') || writerKind.startsWith('logical:')) {
      this.logical(reader, writer, path);
      return;
    }
    if (readerKind !== writerKind) {
      this.add(path, `${describeType(writer)} cannot be read as ${describeType(reader)}`, RESOLUTION_RULES.promotion);
      return;
    }
    switch (readerKind) {
      case 'record':
        this.record(reader as avro.types.RecordType, writer as avro.types.RecordType, path);
        return;
      case 'enum':
        this.enumeration(reader as avro.types.EnumType, writer as avro.types.EnumType, path);
        return;
      case 'fixed':
        if (!nameMatches(reader, writer)) this.nameMismatch(reader, writer, path);
        else {
          const [r, w] = [(reader as avro.types.FixedType).size, (writer as avro.types.FixedType).size];
          this.add(path, `fixed ${reader.name} has size ${w} in the writer and ${r} in the reader`, RESOLUTION_RULES.fixedSize);
        }
        return;
      case 'array':
        this.walk((reader as avro.types.ArrayType).itemsType, (writer as avro.types.ArrayType).itemsType, `${path}[]`);
        return;
      case 'map':
        this.walk(
          (reader as avro.types.MapType).valuesType as avro.Type,
          (writer as avro.types.MapType).valuesType as avro.Type,
          `${path}{}`,
        );
        return;
      default:
        // Two primitives of the same kind always resolve; anything left is reported by the caller.
        return;
    }
  }

  private record(reader: avro.types.RecordType, writer: avro.types.RecordType, path: string): void {
    if (!nameMatches(reader, writer)) {
      this.nameMismatch(reader, writer, path);
      return;
    }
    const written = new Map(writer.fields.map((field) => [field.name, field]));
    for (const field of reader.fields) {
      const here = path ? `${path}.${field.name}` : field.name;
      const source = [field.name, ...(field.aliases ?? [])].map((name) => written.get(name)).find(Boolean);
      if (source) {
        this.walk(field.type, source.type, here);
        continue;
      }
      if (field.defaultValue() !== undefined) continue;
      const { reader: r, writer: w, newer } = this.#labels;
      const what =
        newer === 'reader'
          ? 'added without a default'
          : newer === 'writer'
            ? `removed in ${w} but has no default in ${r}`
            : `missing in the ${w} writer and without a default in the ${r} reader`;
      this.add(here, what, RESOLUTION_RULES.fieldDefault);
    }
  }

  private enumeration(reader: avro.types.EnumType, writer: avro.types.EnumType, path: string): void {
    if (!nameMatches(reader, writer)) {
      this.nameMismatch(reader, writer, path);
      return;
    }
    const missing = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    this.add(
      path,
      `enum ${reader.name} lacks symbol${missing.length > 1 ? 's' : ''} ${missing.join(', ')} and has no default`,
      RESOLUTION_RULES.enumSymbol,
    );
  }

  private unionBranch(reader: avro.types.UnwrappedUnionType, writer: avro.Type, path: string): void {
    // A branch of the same family and name is what the writer meant: explain inside it.
    const same = reader.types.find(
      (branch) => kind(branch) === kind(writer) && (!['record', 'enum', 'fixed'].includes(kind(branch)) || nameMatches(branch, writer)),
    );
    if (same) {
      this.walk(same, writer, path);
      return;
    }
    this.add(
      path,
      `the writer's ${describeType(writer)} matches no branch of the reader's ${describeType(reader)}`,
      RESOLUTION_RULES.unionBranch,
    );
  }

  private nameMismatch(reader: avro.Type, writer: avro.Type, path: string): void {
    this.add(path, `${kind(writer)} ${writer.name} cannot be read as ${kind(reader)} ${reader.name}`, RESOLUTION_RULES.recordName);
  }

  private logical(reader: avro.Type, writer: avro.Type, path: string): void {
    if (kind(reader) === 'logical:decimal' && kind(writer) === 'logical:decimal') {
      this.add(path, `${describeType(writer)} cannot be read as ${describeType(reader)}`, RESOLUTION_RULES.decimal);
      return;
    }
    this.add(path, `${describeType(writer)} cannot be read as ${describeType(reader)}`, RESOLUTION_RULES.promotion);
  }
}

/**
 * Why a `reader` schema cannot read data written with `writer` under Avro's schema resolution;
 * empty when it can. avsc's resolver decides yes or no (with Junction's logical types); the
 * walk only explains, and when it finds nothing to blame, avsc's own message is reported.
 */
export function schemaBreaks(
  reader: AvroSchema,
  writer: AvroSchema,
  labels: SchemaLabels = { reader: 'new', writer: 'old' },
): SchemaBreak[] {
  const readerType = avroType(reader);
  const writerType = avroType(writer);
  const verdict = avscMessage(readerType, writerType);
  if (verdict === undefined) return [];
  const explainer = new Explainer(labels);
  explainer.walk(readerType, writerType, '');
  if (explainer.breaks.length === 0) explainer.add('', verdict, RESOLUTION_RULES.avro);
  return explainer.breaks;
}

/** One version of a subject's schema, as {@link checkCompatibility} needs it. */
export interface VersionedSchema {
  version: number;
  schema: AvroSchema;
}

/** Which directions and which earlier versions a compatibility mode checks. */
function modeChecks(mode: Compatibility): { backward: boolean; forward: boolean; transitive: boolean } {
  switch (mode) {
    case 'NONE':
      return { backward: false, forward: false, transitive: false };
    case 'BACKWARD':
      return { backward: true, forward: false, transitive: false };
    case 'BACKWARD_TRANSITIVE':
      return { backward: true, forward: false, transitive: true };
    case 'FORWARD':
      return { backward: false, forward: true, transitive: false };
    case 'FORWARD_TRANSITIVE':
      return { backward: false, forward: true, transitive: true };
    case 'FULL':
      return { backward: true, forward: true, transitive: false };
    case 'FULL_TRANSITIVE':
      return { backward: true, forward: true, transitive: true };
  }
}

/**
 * Checks every version of a subject (oldest first) against the earlier ones the way a registry
 * would have on registering them in order: BACKWARD = the new version reads the old, FORWARD =
 * the old reads the new, FULL = both; `_TRANSITIVE` against every earlier version, otherwise
 * only the previous one.
 */
export function checkCompatibility(
  versions: readonly VersionedSchema[],
  mode: Compatibility,
  options: { subject?: string } = {},
): CompatibilityProblem[] {
  const { backward, forward, transitive } = modeChecks(mode);
  const problems: CompatibilityProblem[] = [];
  const at = options.subject === undefined ? {} : { subject: options.subject };
  versions.forEach((latest, i) => {
    const earlier = transitive ? versions.slice(0, i) : versions.slice(Math.max(0, i - 1), i);
    for (const old of earlier) {
      const pairs: Array<[reader: VersionedSchema, writer: VersionedSchema]> = [];
      if (backward) pairs.push([latest, old]);
      if (forward) pairs.push([old, latest]);
      for (const [reader, writer] of pairs) {
        const labels: SchemaLabels = {
          reader: `v${reader.version}`,
          writer: `v${writer.version}`,
          newer: reader.version > writer.version ? 'reader' : 'writer',
        };
        for (const found of schemaBreaks(reader.schema, writer.schema, labels)) {
          problems.push({ ...at, from: writer.version, to: reader.version, ...found });
        }
      }
    }
  });
  return problems;
}
