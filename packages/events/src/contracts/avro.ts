import type { FieldProblem } from '@junction/observability';
import avro from 'avsc';
// A cycle, but only through functions called after both modules loaded: the plan walks avsc types made here.
import { piiPlan } from '../pii/plan.ts';

/** An Avro schema as parsed JSON. */
export type AvroSchema = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * `timestamp-millis` as a `Date`. Writers may also pass an ISO-8601 string with a zone (JSON
 * callers such as the gateway); readers always get a `Date`.
 */
class TimestampMillis extends avro.types.LogicalType {
  override _fromValue(millis: number): Date {
    return new Date(millis);
  }
  override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
    if (typeof value === 'string' && ISO_TIME.test(value)) {
      const millis = Date.parse(value);
      return Number.isNaN(millis) ? undefined : millis;
    }
    return undefined;
  }
  override _resolve(type: avro.Type): ((value: number) => Date) | undefined {
    // A logical writer hands over values it has already converted; a plain long hands over millis.
    if (avro.Type.isType(type, 'logical:timestamp-millis')) return (value) => value as unknown as Date;
    if (avro.Type.isType(type, 'long', 'int')) return (value) => this._fromValue(Number(value));
    return undefined;
  }
}

/**
 * `decimal` on bytes as an exact decimal string (`"1234.50"`): money never passes through a
 * binary float. Readers get exactly `scale` digits after the point.
 */
class DecimalString extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: avro.Schema, options?: avro.ForSchemaOptions) {
    super(schema, options);
    const { precision, scale = 0 } = schema as { precision?: unknown; scale?: unknown };
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1)
      throw new Error('decimal needs an integer precision ≥ 1');
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error('decimal needs an integer scale between 0 and its precision');
    }
    this.precision = precision;
    this.scale = scale;
  }
  override _fromValue(bytes: Buffer): string {
    let unscaled = bytes.length ? BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex')}`)) : 0n;
    const negative = unscaled < 0n;
    if (negative) unscaled = -unscaled;
    const digits = unscaled.toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale ? `.${fraction}` : ''}`;
  }
  override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined;
    const match = DECIMAL.exec(value);
    if (!match) return undefined;
    const [, sign = '', whole = '', fraction = ''] = match;
    if (fraction.length > this.scale) return undefined;
    const digits = `${whole}${fraction.padEnd(this.scale, '0')}`.replace(/^0+(?=\d)/, '');
    if (digits.length > this.precision) return undefined;
    let unscaled = BigInt(digits);
    if (sign === '-') unscaled = -unscaled;
    // Minimal two's complement, big-endian.
    let bytes = 1;
    while (unscaled < -(1n << BigInt(bytes * 8 - 1)) || unscaled >= 1n << BigInt(bytes * 8 - 1)) bytes += 1;
    const hex = BigInt.asUintN(bytes * 8, unscaled)
      .toString(16)
      .padStart(bytes * 2, '0');
    return Buffer.from(hex, 'hex');
  }
  override _resolve(type: avro.Type): ((value: string) => string) | undefined {
    if (avro.Type.isType(type, 'logical:decimal')) {
      // The writer has already read its bytes as a decimal string; the scale must agree for it to mean the same.
      const writer = type as unknown as DecimalString;
      if (writer.scale === this.scale && writer.precision <= this.precision) return (value) => value;
    }
    return undefined;
  }
  override _export(schema: avro.Schema): void {
    Object.assign(schema as object, { precision: this.precision, scale: this.scale });
  }
}

/** `uuid` on string, checked for the RFC 9562 text form. */
class UuidString extends avro.types.LogicalType {
  override _fromValue(value: string): string {
    return value;
  }
  override _toValue(value: unknown): string | undefined {
    return typeof value === 'string' && UUID.test(value) ? value : undefined;
  }
  override _resolve(type: avro.Type): ((value: string) => string) | undefined {
    return avro.Type.isType(type, 'string', 'logical:uuid') ? (value) => value : undefined;
  }
}

const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillis, decimal: DecimalString, uuid: UuidString };

const types = new WeakMap<object, avro.Type>();

/**
 * The avsc type of `schema`, with Junction's logical types: `timestamp-millis` ↔ `Date`,
 * `decimal` ↔ exact string, `uuid` checked. Cached per schema object.
 */
export function avroType(schema: AvroSchema): avro.Type {
  let type = types.get(schema);
  if (!type) {
    type = avro.Type.forSchema(schema as avro.Schema, { logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });
    types.set(schema, type);
  }
  return type;
}

/** What a value of `type` should look like, for error messages. */
function expected(type: avro.Type): string {
  const name = type.typeName;
  if (name === 'logical:decimal') {
    const { precision, scale } = type as unknown as DecimalString;
    return `a decimal string with at most ${precision - scale} digits before the point and ${scale} after, e.g. "12.50"`;
  }
  if (name === 'logical:timestamp-millis') return 'a Date or an ISO-8601 time with a zone';
  if (name === 'logical:uuid') return 'a UUID string';
  if (name === 'union:unwrapped' || name === 'union:wrapped') {
    return (type as unknown as { types: avro.Type[] }).types
      .map((branch) => (branch.typeName === 'null' ? 'null' : expected(branch)))
      .join(' or ');
  }
  if (name === 'enum') return `one of ${(type as unknown as { symbols: string[] }).symbols.join(', ')}`;
  if (name === 'record' || name === 'error') return 'an object';
  if (name === 'array') return 'an array';
  if (name === 'map') return 'an object of values';
  if (name === 'int') return 'a 32-bit integer';
  if (name === 'long') return 'an integer';
  return `a ${name}`;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/** What kind of value it is, without the value: for places that hold personal data. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (Buffer.isBuffer(value)) return 'bytes';
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/**
 * Whether a value at `path` may hold personal data: it lies at or inside a `junction.pii` field,
 * or holds one (a wrong value where a record of them was expected may be one of them).
 */
function personalAt(schema: AvroSchema, path: readonly (string | number)[]): boolean {
  const paths = piiPlan(schema)?.paths ?? [];
  return paths.some((personal) => {
    const segments = personal.split('.');
    const shared = Math.min(segments.length, path.length);
    // Plan paths name arrays' items and maps' values `*`.
    for (let i = 0; i < shared; i += 1) if (segments[i] !== '*' && segments[i] !== String(path[i])) return false;
    return true;
  });
}

/**
 * Every way `value` fails `schema`, each at its field path; empty when it is valid. A wrong value
 * is quoted (in short) except where `junction.pii` fields are: those say only what kind of value
 * came, since these messages reach callers and logs.
 */
export function validate(schema: AvroSchema, value: unknown): FieldProblem[] {
  const type = avroType(schema);
  // The common case, a valid value, takes avsc's compiled check once; the passes below only explain.
  if (type.isValid(value, { noUndeclaredFields: true })) return [];
  const problems: FieldProblem[] = [];
  const got = (path: readonly (string | number)[], any: unknown) =>
    personalAt(schema, path) ? `${kindOf(any)} (personal data, not shown)` : shown(any);
  type.isValid(value, {
    errorHook: (path, any, at) => {
      problems.push({
        path: path.join('.') || '(event)',
        reason: any === undefined ? 'required but missing' : `expected ${expected(at)}, got ${got(path, any)}`,
      });
    },
  });
  // A second pass only for names the schema does not have: avsc's strict flag rejects the whole
  // record at once, so the first pass (without it) is what locates the other problems.
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path, any, at) => {
      if (at.typeName !== 'record' || any === null || typeof any !== 'object') return;
      const declared = new Set((at as avro.types.RecordType).fields.map((field) => field.name));
      for (const key of Object.keys(any)) {
        if (!declared.has(key) && (any as Record<string, unknown>)[key] !== undefined) {
          problems.push({ path: [...path, key].join('.'), reason: 'not a field of the schema' });
        }
      }
    },
  });
  return problems;
}
