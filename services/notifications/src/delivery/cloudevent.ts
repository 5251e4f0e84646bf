import type { DecodedEvent, InboundRecord } from '@junction/service';

/** Avro values as JSON: bytes as base64, dates as ISO text (`JSON.stringify` does those itself). */
const jsonValue = (_key: string, value: unknown): unknown =>
  value !== null &&
  typeof value === 'object' &&
  (value as { type?: unknown }).type === 'Buffer' &&
  Array.isArray((value as { data?: unknown }).data)
    ? Buffer.from((value as { data: number[] }).data).toString('base64')
    : typeof value === 'bigint'
      ? value.toString()
      : value;

/**
 * An event as a CloudEvents 1.0 JSON document (structured mode): the attributes the record carried
 * in its `ce_*` headers, `data` as JSON. `type` keeps its version (`….OrderPlaced.v2`), so a
 * receiver knows which contract the data follows.
 */
export function cloudEventJson(record: InboundRecord, event: DecodedEvent, data: unknown): string {
  const h = record.headers;
  const document: Record<string, unknown> = {
    specversion: '1.0',
    id: event.id,
    source: h.ce_source ?? '/junction',
    type: h.ce_type ?? `${event.type}.v${event.version}`,
    ...(h.ce_subject ? { subject: h.ce_subject } : {}),
    time: h.ce_time ?? new Date(record.timestamp).toISOString(),
    datacontenttype: 'application/json',
    ...(h.traceparent ? { traceparent: h.traceparent } : {}),
    data,
  };
  return JSON.stringify(document, jsonValue);
}
