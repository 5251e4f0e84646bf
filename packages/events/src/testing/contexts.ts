import type { EventContext, RecordSink } from '../subscriber/types.ts';

/** A context for a record of group `billing` at `orders.order`/2@41 (or the given topic), as middleware unit tests need. */
export function recordContext(topic = 'orders.order', headers: Record<string, string> = {}): EventContext {
  return {
    group: 'billing',
    record: {
      topic,
      partition: 2,
      offset: '41',
      key: 'k1',
      value: Buffer.from('v'),
      headers: { ce_id: 'e1', ...headers },
      timestamp: 1_700_000_000_000,
    },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

/** A sink that keeps what it was given: what a middleware writes is its contract; the broker part is in the int tests. */
export function keepingSink(): { sink: RecordSink; written: Array<{ topic: string; headers: Record<string, string> }> } {
  const written: Array<{ topic: string; headers: Record<string, string> }> = [];
  return { written, sink: async (topic, record) => void written.push({ topic, headers: record.headers }) };
}
