import { describe, expect, it } from 'vitest';
import { dataLines, formatDelivery, formatEvent, formatTally, MAX_DATA_LINES, type Paint } from './format.ts';

const at = new Date('2026-11-24T09:30:01.250Z');
const placed = {
  specversion: '1.0',
  id: '0196d3c2-7c1e-7a3b-9f00-000000000001',
  source: '/junction/orders',
  type: 'com.junction.orders.OrderPlaced.v2',
  subject: 'b3c1d1d0-0000-4000-8000-000000000042',
  time: '2026-11-24T09:30:00.000Z',
  datacontenttype: 'application/json',
  data: { orderId: 'b3c1d1d0-0000-4000-8000-000000000042', total: '39.98', customerEmail: '[redacted]' },
};

describe('formatEvent', () => {
  it('prints time and type, then subject, id and the data as indented JSON, aligned', () => {
    expect(formatEvent(placed, at)).toBe(
      [
        '2026-11-24T09:30:00.000Z  com.junction.orders.OrderPlaced.v2',
        '  subject  b3c1d1d0-0000-4000-8000-000000000042',
        '  id       0196d3c2-7c1e-7a3b-9f00-000000000001',
        '  data     {',
        '             "orderId": "b3c1d1d0-0000-4000-8000-000000000042",',
        '             "total": "39.98",',
        '             "customerEmail": "[redacted]"',
        '           }',
      ].join('\n'),
    );
  });

  it('falls back to when it arrived, and says what is missing', () => {
    expect(formatEvent({ data: 'not json' }, at)).toBe(
      ['2026-11-24T09:30:01.250Z  (no type)', '  id       (no id)', '  data     "not json"'].join('\n'),
    );
    expect(formatEvent({ id: 'x', type: 't' }, at)).toContain('  data     (no data)');
  });

  it('paints the time dim and the type bold', () => {
    const tags: Paint = (kind, text) => `<${kind}>${text}</${kind}>`;
    expect(formatEvent(placed, at, tags).split('\n')[0]).toBe(
      '<dim>2026-11-24T09:30:00.000Z</dim>  <bold>com.junction.orders.OrderPlaced.v2</bold>',
    );
  });

  it('keeps control characters from the network off the terminal', () => {
    const block = formatEvent({ ...placed, type: 'com.x\u001b[2J', subject: 'a\nb' }, at);
    expect(block).not.toContain('\u001b');
    expect(block).toContain('com.x?[2J');
    expect(block).toContain('  subject  a?b');
  });
});

describe('dataLines', () => {
  it(`keeps data up to ${MAX_DATA_LINES} lines as it is`, () => {
    const data = Array.from({ length: MAX_DATA_LINES - 2 }, (_, i) => i);
    expect(dataLines(data)).toHaveLength(MAX_DATA_LINES);
    expect(dataLines(data).at(-1)).toBe(']');
  });

  it('cuts longer data, saying how many lines it left out', () => {
    const lines = dataLines(Array.from({ length: 100 }, (_, i) => i));
    expect(lines).toHaveLength(MAX_DATA_LINES);
    expect(lines.slice(0, 3)).toEqual(['[', '  0,', '  1,']);
    expect(lines.at(-1)).toBe(`… ${102 - (MAX_DATA_LINES - 1)} more lines`);
    expect(dataLines({ a: [1, 2, 3] }, 3)).toEqual(['{', '  "a": [', '… 5 more lines']);
  });
});

describe('formatDelivery', () => {
  it('prints an event as its block', () => {
    expect(formatDelivery({ kind: 'event', webhookId: placed.id, receivedAt: at, event: placed })).toBe(formatEvent(placed, at));
  });

  it('prints a repeat as one dim line with its webhook-id', () => {
    const tags: Paint = (kind, text) => `<${kind}>${text}</${kind}>`;
    expect(formatDelivery({ kind: 'again', webhookId: placed.id, receivedAt: at }, tags)).toBe(
      `<dim>2026-11-24T09:30:01.250Z  (again) ${placed.id}</dim>`,
    );
  });

  it('prints a refused signature as one red line with the webhook-id and why', () => {
    const tags: Paint = (kind, text) => `<${kind}>${text}</${kind}>`;
    expect(formatDelivery({ kind: 'rejected', webhookId: 'msg_1', receivedAt: at, reason: 'No matching signature found' }, tags)).toBe(
      '<red>2026-11-24T09:30:01.250Z  the signature did not verify (No matching signature found); webhook-id msg_1; answered 401</red>',
    );
    expect(formatDelivery({ kind: 'rejected', webhookId: undefined, receivedAt: at, reason: 'Missing required headers' })).toContain(
      'webhook-id (none)',
    );
  });
});

describe('formatTally', () => {
  it('counts events, repeats and refusals', () => {
    expect(formatTally({ events: 1, again: 0, rejected: 0 })).toBe('1 event received (0 again, 0 refused)');
    expect(formatTally({ events: 3, again: 1, rejected: 2 })).toBe('3 events received (1 again, 2 refused)');
  });
});
