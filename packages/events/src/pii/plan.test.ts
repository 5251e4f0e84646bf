import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../../../schemas/generated/events.ts';
import type { AvroSchema } from '../contracts/avro.ts';
import { eventContract, eventVersion } from '../contracts/catalog.ts';
import { loadCatalog } from '../contracts/load.ts';
import { mapPii, type PiiPlan, piiPlan, piiSchemaProblems } from './plan.ts';

const record = (fields: unknown[]): AvroSchema => ({ type: 'record', name: 'Thing', namespace: 'com.junction.test', fields });
const address = {
  type: 'record',
  name: 'Address',
  fields: [
    { name: 'line1', type: 'string' },
    { name: 'line2', type: ['null', 'string'], default: null },
  ],
};

describe('piiPlan', () => {
  it('finds every PII string of OrderPlaced v2: the email, and each string of the address (line2 through its union)', () => {
    const plan = piiPlan(eventVersion(eventContract(catalog, 'com.junction.orders.OrderPlaced')).schema as AvroSchema) as PiiPlan;
    expect(plan.paths).toEqual([
      'customerEmail',
      'shippingAddress.line1',
      'shippingAddress.line2',
      'shippingAddress.city',
      'shippingAddress.postalCode',
      'shippingAddress.country',
    ]);
  });

  it('is undefined for schemas without marks, and cached per schema', () => {
    const schema = eventVersion(eventContract(catalog, 'com.junction.orders.OrderCancelled')).schema as AvroSchema;
    expect(piiPlan(schema)).toBeUndefined();
    const marked = record([{ name: 'email', type: 'string', 'junction.pii': true }]);
    expect(piiPlan(marked)).toBe(piiPlan(marked));
  });

  it('follows marked nullable records, arrays and maps of records, and records referenced by name', () => {
    const schema = record([
      { name: 'home', type: ['null', address], default: null, 'junction.pii': true },
      { name: 'work', type: 'Address' },
      { name: 'previous', type: { type: 'array', items: 'Address' }, 'junction.pii': true },
      { name: 'contacts', type: { type: 'map', values: 'string' }, 'junction.pii': true },
      {
        name: 'people',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Person',
            fields: [
              { name: 'phone', type: 'string', 'junction.pii': true },
              { name: 'age', type: 'int' },
            ],
          },
        },
      },
    ]);
    expect(piiSchemaProblems(schema)).toEqual([]);
    expect(piiPlan(schema)?.paths).toEqual([
      'home.line1',
      'home.line2',
      'previous.*.line1',
      'previous.*.line2',
      'contacts.*',
      'people.*.phone',
    ]);
  });

  it('rejects marks on values that cannot hold a ciphertext, naming each path', () => {
    const schema = record([
      { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
      { name: 'age', type: 'int', 'junction.pii': true },
      { name: 'born', type: { type: 'long', logicalType: 'timestamp-millis' }, 'junction.pii': true },
      { name: 'owner', type: { type: 'string', logicalType: 'uuid' }, 'junction.pii': true },
      { name: 'salary', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 }, 'junction.pii': true },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] }, 'junction.pii': true },
      {
        name: 'profile',
        type: {
          type: 'record',
          name: 'Profile',
          fields: [
            { name: 'nick', type: 'string' },
            { name: 'vip', type: 'boolean' },
          ],
        },
        'junction.pii': true,
      },
      { name: 'either', type: ['null', 'string', 'int'], 'junction.pii': true },
    ]);
    const problems = piiSchemaProblems(schema);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['age', 'born', 'owner', 'salary', 'kind', 'profile.vip', 'either']);
    expect(problems[0]).toMatch(/^age: is an int, which cannot hold a ciphertext/);
    expect(problems[1]).toMatch(/^born: is a timestamp-millis \(logical type\)/);
    expect(problems[6]).toMatch(/not in a union of null, string, int/);
  });

  it('rejects a marked key field: the record key travels in clear', () => {
    const schema = record([{ name: 'email', type: 'string', 'junction.pii': true }]);
    expect(piiSchemaProblems(schema, { keyField: 'email' })).toEqual([
      'email: is the topic\'s key field, which travels in clear as the record key; it cannot be marked "junction.pii"',
    ]);
  });
});

describe('mapPii', () => {
  it("transforms only PII strings, keeps nulls, and leaves the caller's value untouched", () => {
    const schema = record([
      { name: 'email', type: 'string', 'junction.pii': true },
      { name: 'home', type: ['null', address], default: null, 'junction.pii': true },
      { name: 'note', type: 'string' },
      { name: 'previous', type: { type: 'array', items: 'Address' }, 'junction.pii': true },
    ]);
    const plan = piiPlan(schema) as PiiPlan;
    const value = {
      email: 'a@b.c',
      home: { line1: 'one', line2: null },
      note: 'clear',
      previous: [{ line1: 'p1', line2: 'p2' }],
    };
    const snapshot = structuredClone(value);
    const seen: string[] = [];
    const mapped = mapPii(plan.root, value, (path, text) => {
      seen.push(path);
      return `<${text}>`;
    });
    expect(mapped).toEqual({
      email: '<a@b.c>',
      home: { line1: '<one>', line2: null },
      note: 'clear',
      previous: [{ line1: '<p1>', line2: '<p2>' }],
    });
    expect(seen).toEqual(['email', 'home.line1', 'previous.*.line1', 'previous.*.line2']);
    expect(value).toEqual(snapshot);
    expect(mapPii(plan.root, { ...value, home: null }, (_, t) => t)).toMatchObject({ home: null });
  });
});

describe('loadCatalog', () => {
  it('passes the real schemas, and rejects a mark it cannot honour naming the file and field path', async () => {
    const schemas = resolve(import.meta.dirname, '../../../../schemas');
    await expect(loadCatalog(schemas)).resolves.toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'junction-pii-schemas-'));
    try {
      await cp(schemas, dir, { recursive: true });
      const file = join(dir, 'orders/OrderPlaced/v2.avsc');
      const schema = JSON.parse(await readFile(file, 'utf8'));
      const total = schema.fields.find((f: { name: string }) => f.name === 'total');
      total['junction.pii'] = true;
      await writeFile(file, JSON.stringify(schema));
      const error = await loadCatalog(dir).catch((e: unknown) => e as { code: string; context: { problems: string[] } });
      expect(error).toMatchObject({ code: 'config.invalid' });
      expect((error as { context: { problems: string[] } }).context.problems).toEqual([
        expect.stringMatching(
          /^orders\/OrderPlaced\/v2\.avsc: "junction\.pii" at total: is a decimal \(logical type\), which cannot hold a ciphertext/,
        ),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
