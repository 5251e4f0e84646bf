import { describe, expect, it } from 'vitest';
import { isDlqTopic, parseDlqTopic } from './names.ts';

describe('parseDlqTopic', () => {
  it('splits group and topic at the first dot by default', () => {
    expect(parseDlqTopic('billing.orders.order.dlq')).toEqual({ group: 'billing', topic: 'orders.order' });
    expect(parseDlqTopic('demo-1a2b.orders.order.t9.dlq')).toEqual({ group: 'demo-1a2b', topic: 'orders.order.t9' });
  });

  it('prefers the split that names an existing topic, for groups with dots', () => {
    const known = new Set(['orders.order']);
    expect(parseDlqTopic('team.billing.orders.order.dlq', known)).toEqual({ group: 'team.billing', topic: 'orders.order' });
  });

  it('refuses names that are not <group>.<topic>.dlq', () => {
    for (const name of ['orders.order', 'x.dlq', '.orders.dlq', 'billing..dlq', 'dlq', 'billing.orders.order.dlq.retry.1']) {
      expect(parseDlqTopic(name), name).toBeUndefined();
      expect(isDlqTopic(name), name).toBe(false);
    }
    expect(isDlqTopic('g.t.dlq')).toBe(true);
  });
});
