import { describe, expect, it } from 'vitest';
import { cloudEventJson } from './cloudevent.ts';

describe('an event as CloudEvents JSON (structured mode)', () => {
  const record = {
    topic: 'orders.order',
    partition: 0,
    offset: '7',
    key: 'o-1',
    value: null,
    timestamp: Date.parse('2026-12-07T10:00:00Z'),
    headers: {
      ce_id: '0190c7a0-0000-7000-8000-000000000001',
      ce_source: '/junction/orders',
      ce_type: 'com.junction.orders.OrderPlaced.v2',
      ce_subject: 'o-1',
      ce_time: '2026-12-07T09:59:59.000Z',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  };
  const event = { id: record.headers.ce_id, type: 'com.junction.orders.OrderPlaced', version: 2, schemaId: 1, data: {} };

  it('carries the record’s attributes, its versioned type and its trace, and the data as JSON', () => {
    const data = { orderId: 'o-1', placedAt: new Date('2026-12-07T09:59:58Z'), raw: Buffer.from('hi'), total: '10.00' };
    expect(JSON.parse(cloudEventJson(record, event, data))).toEqual({
      specversion: '1.0',
      id: record.headers.ce_id,
      source: '/junction/orders',
      type: 'com.junction.orders.OrderPlaced.v2',
      subject: 'o-1',
      time: '2026-12-07T09:59:59.000Z',
      datacontenttype: 'application/json',
      traceparent: record.headers.traceparent,
      data: { orderId: 'o-1', placedAt: '2026-12-07T09:59:58.000Z', raw: 'aGk=', total: '10.00' },
    });
  });

  it('falls back to the record’s time and the decoded type when headers lack them', () => {
    const bare = { ...record, headers: { ce_id: record.headers.ce_id } };
    const json = JSON.parse(cloudEventJson(bare, event, { a: 1 }));
    expect(json).toMatchObject({ type: 'com.junction.orders.OrderPlaced.v2', time: '2026-12-07T10:00:00.000Z', source: '/junction' });
    expect(json).not.toHaveProperty('subject');
  });
});
