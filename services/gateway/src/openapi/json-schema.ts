import type { AvroSchema } from '@junction/events';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Record<string, unknown>;

const PRIMITIVES: Record<string, JsonSchema> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  int: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  long: { type: 'integer' },
  float: { type: 'number' },
  double: { type: 'number' },
  string: { type: 'string' },
  bytes: { type: 'string', description: 'bytes' },
};

/** What the gateway accepts in JSON for an Avro logical type (see the codec's logical types). */
function logical(schema: Record<string, unknown>): JsonSchema | undefined {
  switch (schema.logicalType) {
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'timestamp-millis':
      return { type: 'string', format: 'date-time' };
    case 'decimal': {
      const precision = Number(schema.precision);
      const scale = Number(schema.scale ?? 0);
      const whole = `\\d{1,${Math.max(1, precision - scale)}}`;
      return {
        type: 'string',
        pattern: scale > 0 ? `^-?${whole}(\\.\\d{1,${scale}})?$` : `^-?${whole}$`,
        description: `a decimal of at most ${precision} digits, ${scale} after the point, as a string`,
      };
    }
    default:
      return undefined;
  }
}

function withDoc(schema: JsonSchema, doc: unknown): JsonSchema {
  return typeof doc === 'string' && doc ? { ...schema, description: doc } : schema;
}

/**
 * The JSON Schema of the JSON body the gateway accepts for an Avro schema: records are closed
 * objects whose fields without a default are required, unions become `anyOf`, logical types
 * their string forms. Named types are resolved where they were defined (inlined), so each
 * event's schema stands alone.
 */
export function avroToJsonSchema(schema: AvroSchema): JsonSchema {
  const named = new Map<string, JsonSchema>();
  const convert = (type: unknown, namespace: string | undefined): JsonSchema => {
    if (typeof type === 'string') {
      const primitive = PRIMITIVES[type];
      if (primitive) return primitive;
      const found = named.get(type) ?? named.get(`${namespace}.${type}`);
      if (!found) throw new Error(`unknown Avro type ${type}`);
      return found;
    }
    if (Array.isArray(type)) return { anyOf: type.map((branch) => convert(branch, namespace)) };
    const node = type as Record<string, unknown>;
    const mapped = logical(node);
    if (mapped) return mapped;
    switch (node.type) {
      case 'record': {
        const ns = typeof node.namespace === 'string' ? node.namespace : namespace;
        const fields = node.fields as Array<Record<string, unknown>>;
        const properties: Record<string, JsonSchema> = {};
        const required: string[] = [];
        const result: JsonSchema = { type: 'object', properties, required, additionalProperties: false };
        const name = String(node.name);
        named.set(name.includes('.') ? name : `${ns}.${name}`, result);
        named.set(name, result);
        for (const field of fields) {
          properties[String(field.name)] = withDoc(convert(field.type, ns), field.doc);
          if (!('default' in field)) required.push(String(field.name));
        }
        return withDoc(result, node.doc);
      }
      case 'enum': {
        const result = withDoc({ type: 'string', enum: node.symbols }, node.doc);
        named.set(String(node.name), result);
        return result;
      }
      case 'array':
        return { type: 'array', items: convert(node.items, namespace) };
      case 'map':
        return { type: 'object', additionalProperties: convert(node.values, namespace) };
      case 'fixed':
        return { type: 'string' };
      default:
        return convert(node.type, namespace);
    }
  };
  return convert(schema, undefined);
}
