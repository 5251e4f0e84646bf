import { resolve } from 'node:path';
import { JunctionError } from '@junction/observability';
import { describe, expect, it } from 'vitest';
import { type AclBinding, aclBindings, aclRows } from './acls.ts';
import type { TopicContract } from './catalog.ts';
import { loadCatalog } from './load.ts';

const SCHEMAS = resolve(import.meta.dirname, '../../../../schemas');

const topic = (name: string, owner: string, subscribers: string[], writers?: string[]): TopicContract => ({
  name,
  description: name,
  owner,
  partitions: 1,
  retentionMs: -1,
  cleanupPolicy: 'delete',
  compatibility: 'FULL_TRANSITIVE',
  keyField: 'id',
  events: [],
  subscribers,
  ...(writers ? { writers } : {}),
});

const of = (bindings: AclBinding[], principal: string) =>
  bindings
    .filter((b) => b.principal === principal)
    .map((b) => `${b.resourceType} ${b.patternType} ${b.resourceName} ${b.operation}`)
    .sort();

describe('aclBindings', () => {
  it('grants owners and writers WRITE, subscribers READ, their group and their own prefix, and nothing else', () => {
    const bindings = aclBindings({
      topics: [topic('orders.order', 'orders', ['inventory'], ['gateway']), topic('inventory.stock', 'inventory', ['orders'])],
    });
    expect(of(bindings, 'User:gateway')).toEqual(['TOPIC LITERAL orders.order DESCRIBE', 'TOPIC LITERAL orders.order WRITE']);
    expect(of(bindings, 'User:inventory')).toEqual([
      'GROUP LITERAL inventory READ',
      'TOPIC LITERAL inventory.stock DESCRIBE',
      'TOPIC LITERAL inventory.stock WRITE',
      'TOPIC LITERAL orders.order DESCRIBE',
      'TOPIC LITERAL orders.order READ',
      'TOPIC PREFIXED inventory. CREATE',
      'TOPIC PREFIXED inventory. DESCRIBE',
      'TOPIC PREFIXED inventory. READ',
      'TOPIC PREFIXED inventory. WRITE',
    ]);
    expect(of(bindings, 'User:orders')).toEqual([
      'GROUP LITERAL orders READ',
      'TOPIC LITERAL inventory.stock DESCRIBE',
      'TOPIC LITERAL inventory.stock READ',
      'TOPIC LITERAL orders.order DESCRIBE',
      'TOPIC LITERAL orders.order WRITE',
      'TOPIC PREFIXED orders. CREATE',
      'TOPIC PREFIXED orders. DESCRIBE',
      'TOPIC PREFIXED orders. READ',
      'TOPIC PREFIXED orders. WRITE',
    ]);
    expect(new Set(bindings.map((b) => b.principal))).toEqual(new Set(['User:gateway', 'User:inventory', 'User:orders']));
    expect(bindings).toHaveLength(2 + 9 + 9);
  });

  it('is sorted, each binding once, and the same for the same catalog', () => {
    const catalog = { topics: [topic('a.x', 'a', ['b', 'b']), topic('a.y', 'a', ['b'], ['a'])] };
    const bindings = aclBindings(catalog);
    expect(new Set(bindings.map((b) => JSON.stringify(b))).size).toBe(bindings.length);
    expect(aclBindings(catalog)).toEqual(bindings);
    expect(aclRows(bindings)[0]).toEqual(['User:a', 'topic a.x', 'LITERAL', 'DESCRIBE']);
  });

  it("refuses a catalog where a subscriber's own prefix would reach a topic someone else owns", () => {
    const catalog = { topics: [topic('billing.payment', 'payments', ['billing']), topic('orders.order', 'orders', ['billing'])] };
    expect(() => aclBindings(catalog)).toThrow(JunctionError);
    expect(() => aclBindings(catalog)).toThrow(/billing\.payment starts with billing\..*payments owns it/);
  });

  it('follows the real schemas/topics.yaml: the gateway writes orders.order only', async () => {
    const bindings = aclBindings(await loadCatalog(SCHEMAS));
    expect(of(bindings, 'User:gateway')).toEqual(['TOPIC LITERAL orders.order DESCRIBE', 'TOPIC LITERAL orders.order WRITE']);
    const writers = bindings.filter((b) => b.operation === 'WRITE' && b.patternType === 'LITERAL' && b.resourceName === 'orders.order');
    expect(writers.map((b) => b.principal).sort()).toEqual(['User:gateway', 'User:orders']);
    expect(of(bindings, 'User:notifications')).toContain('GROUP LITERAL notifications READ');
    expect(of(bindings, 'User:notifications')).toContain('TOPIC LITERAL notifications.delivery WRITE');
    expect(of(bindings, 'User:inventory')).not.toContain('TOPIC LITERAL orders.order WRITE');
  });
});
