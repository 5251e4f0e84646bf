import type avro from 'avsc';
import { type AvroSchema, avroType } from '../contracts/avro.ts';

/**
 * Where an event's personal strings are, precomputed per schema so that an event without any
 * costs one lookup. Only the branches leading to a PII string are kept.
 */
export type PiiPlanNode =
  | { kind: 'string'; path: string }
  | { kind: 'nullable'; of: PiiPlanNode }
  | { kind: 'record'; fields: ReadonlyArray<{ name: string; plan: PiiPlanNode }> }
  | { kind: 'array'; items: PiiPlanNode }
  | { kind: 'map'; values: PiiPlanNode };

/** The PII plan of one schema: its string leaves' paths (`shippingAddress.line1`, arrays and maps as `*`) and how to reach them. */
export interface PiiPlan {
  /** Every PII string path, in schema order. */
  paths: readonly string[];
  root: PiiPlanNode;
}

interface Walk {
  /** JSON definitions of named records met so far: a later reference by name reads its fields' marks here. */
  definitions: Map<avro.Type, Record<string, unknown>>;
  /** Records being walked, to stop on recursive types. */
  open: Set<avro.Type>;
  problems: string[];
  paths: string[];
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

/** The JSON of a type as written at this place: an inline definition, or the one met earlier under its name. */
function definitionOf(json: unknown, type: avro.Type, walk: Walk): Record<string, unknown> | undefined {
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const object = json as Record<string, unknown>;
    // `{ "type": { "type": "record", … } }` wraps a definition once more.
    if (object.type !== null && typeof object.type === 'object' && !Array.isArray(object.type))
      return definitionOf(object.type, type, walk);
    return object;
  }
  return walk.definitions.get(type);
}

function describe(type: avro.Type): string {
  const name = type.typeName;
  return name.startsWith('logical:') ? `a ${name.slice(8)} (logical type)` : `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** The plan below one place of the schema; `marked` when a field above it carries `"junction.pii": true`. */
function planOf(json: unknown, type: avro.Type, path: string, marked: boolean, walk: Walk): PiiPlanNode | undefined {
  const name = type.typeName;
  switch (name) {
    case 'string':
      if (!marked) return undefined;
      walk.paths.push(path);
      return { kind: 'string', path };
    case 'null':
      return undefined;
    case 'record':
    case 'error': {
      const definition = definitionOf(json, type, walk);
      if (definition && Array.isArray(definition.fields)) walk.definitions.set(type, definition);
      if (walk.open.has(type)) {
        if (marked) walk.problems.push(`${path}: a recursive record cannot be marked "junction.pii"`);
        return undefined;
      }
      walk.open.add(type);
      const fieldJson = (walk.definitions.get(type)?.fields ?? []) as Array<Record<string, unknown>>;
      const fields: Array<{ name: string; plan: PiiPlanNode }> = [];
      (type as avro.types.RecordType).fields.forEach((field, i) => {
        const own = fieldJson[i];
        const plan = planOf(own?.type, field.type, join(path, field.name), marked || own?.['junction.pii'] === true, walk);
        if (plan) fields.push({ name: field.name, plan });
      });
      walk.open.delete(type);
      return fields.length ? { kind: 'record', fields } : undefined;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = (type as unknown as { types: avro.Type[] }).types;
      const branchJson = Array.isArray(json) ? json : [];
      const simple = name === 'union:unwrapped' && branches.filter((branch) => branch.typeName !== 'null').length <= 1;
      const unsupported = () =>
        walk.problems.push(
          `${path}: PII may sit in a string, a record of strings, or such a type made nullable (["null", …]); not in a union of ${branches.map((b) => b.typeName).join(', ')}`,
        );
      if (marked && !simple) {
        unsupported();
        return undefined;
      }
      const plans = branches.map((branch, i) => planOf(branchJson[i], branch, path, marked, walk)).filter((plan) => plan !== undefined);
      if (!plans.length) return undefined;
      if (!simple) {
        unsupported();
        return undefined;
      }
      return { kind: 'nullable', of: plans[0] as PiiPlanNode };
    }
    case 'array': {
      const items = planOf(definitionOf(json, type, walk)?.items, (type as avro.types.ArrayType).itemsType, join(path, '*'), marked, walk);
      return items ? { kind: 'array', items } : undefined;
    }
    case 'map': {
      const values = planOf(definitionOf(json, type, walk)?.values, (type as avro.types.MapType).valuesType, join(path, '*'), marked, walk);
      return values ? { kind: 'map', values } : undefined;
    }
    default:
      // Numbers, booleans, bytes, enums, fixed and logical types (uuid, decimal, timestamps) have no room for a ciphertext.
      if (marked) {
        walk.problems.push(
          `${path}: is ${describe(type)}, which cannot hold a ciphertext; under "junction.pii" every value must be a string (or null). ` +
            'Mark only the string fields, or make this one a plain string',
        );
      }
      return undefined;
  }
}

const plans = new WeakMap<AvroSchema, PiiPlan | null>();

function analyse(schema: AvroSchema): { plan: PiiPlan | undefined; problems: string[] } {
  const walk: Walk = { definitions: new Map(), open: new Set(), problems: [], paths: [] };
  let type: avro.Type;
  try {
    type = avroType(schema);
  } catch {
    // Not a valid schema: the catalog says so on its own; there are no marks to plan.
    return { plan: undefined, problems: [] };
  }
  const root = planOf(schema, type, '', false, walk);
  return { plan: root ? { paths: walk.paths, root } : undefined, problems: walk.problems };
}

/**
 * Why the `"junction.pii"` marks of `schema` cannot be honoured: a marked value that is not a
 * string, a union with several kinds of value, or a record key field marked (the record key is
 * never encrypted). Empty when they can.
 */
export function piiSchemaProblems(schema: AvroSchema, options: { keyField?: string } = {}): string[] {
  const { plan, problems } = analyse(schema);
  const key = options.keyField;
  if (key && plan?.paths.some((path) => path === key || path.startsWith(`${key}.`))) {
    problems.push(`${key}: is the topic's key field, which travels in clear as the record key; it cannot be marked "junction.pii"`);
  }
  return problems;
}

/** The PII plan of `schema` (cached per schema object), or undefined when it marks nothing. Marks it cannot honour are left out: the catalog rejects them. */
export function piiPlan(schema: AvroSchema): PiiPlan | undefined {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = analyse(schema).plan ?? null;
    plans.set(schema, plan);
  }
  return plan ?? undefined;
}

/**
 * A copy of `value` with every PII string replaced by `transform(path, string)`; what lies off
 * the plan's branches is shared, not copied, and the caller's value is never changed.
 */
export function mapPii(node: PiiPlanNode, value: unknown, transform: (path: string, text: string) => string): unknown {
  switch (node.kind) {
    case 'string':
      return typeof value === 'string' ? transform(node.path, value) : value;
    case 'nullable':
      return value === null || value === undefined ? value : mapPii(node.of, value, transform);
    case 'record': {
      if (value === null || typeof value !== 'object') return value;
      // Same prototype: a decoded avsc record stays an instance of its record class.
      const copy = Object.assign(Object.create(Object.getPrototypeOf(value)), value) as Record<string, unknown>;
      for (const field of node.fields) {
        if (field.name in copy) copy[field.name] = mapPii(field.plan, copy[field.name], transform);
      }
      return copy;
    }
    case 'array':
      return Array.isArray(value) ? value.map((item) => mapPii(node.items, item, transform)) : value;
    case 'map': {
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, mapPii(node.values, v, transform)]));
    }
  }
}
