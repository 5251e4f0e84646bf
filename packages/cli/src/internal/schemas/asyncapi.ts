import type { Catalog, EventContract, EventVersion, TopicContract } from '@junction/events';
import { stringify } from 'yaml';

/** Where the AsyncAPI document goes, relative to the schemas directory. */
export const ASYNCAPI_FILE = 'asyncapi.yaml';

/** The payload format of every message: the Avro schema as JSON. */
export const AVRO_PAYLOAD_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';

const KAFKA_BINDING_VERSION = '0.5.0';

/** Options of {@link generateAsyncApi}. */
export interface AsyncApiOptions {
  /** `info.version`; default 0.1.0, Junction's version. */
  version?: string;
  /** The Kafka bootstrap server of the `local` server; default 127.0.0.1:9092 (`./junction up`). */
  localBroker?: string;
}

const camel = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part, i) => (i === 0 ? part.charAt(0).toLowerCase() + part.slice(1) : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
const pascal = (text: string): string => {
  const c = camel(text);
  return c.charAt(0).toUpperCase() + c.slice(1);
};

/** The message id of one event version, e.g. `OrderPlacedV2`; with its domain when two domains share the event name. */
function messageIds(catalog: Catalog): Map<EventVersion, string> {
  const counts = new Map<string, number>();
  for (const event of catalog.events) counts.set(event.name, (counts.get(event.name) ?? 0) + 1);
  const ids = new Map<EventVersion, string>();
  for (const event of catalog.events) {
    const base = (counts.get(event.name) ?? 0) > 1 ? `${pascal(event.domain)}${event.name}` : event.name;
    for (const version of event.versions) ids.set(version, `${base}V${version.version}`);
  }
  return ids;
}

/** The CloudEvents binary-mode headers of one event version, as JSON Schema. */
function headers(event: EventContract, version: EventVersion): Record<string, unknown> {
  return {
    type: 'object',
    description: 'CloudEvents Kafka protocol binding, binary content mode, plus W3C trace context and causality.',
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_subject', 'content-type'],
    properties: {
      ce_specversion: { type: 'string', const: '1.0', description: 'CloudEvents version.' },
      ce_id: { type: 'string', format: 'uuid', description: 'Event id, a UUIDv7; consumers deduplicate on it.' },
      ce_source: { type: 'string', description: 'The publishing service as a URI reference, e.g. /junction/orders.' },
      ce_type: { type: 'string', const: version.ceType, description: 'Event type and schema version.' },
      ce_time: { type: 'string', format: 'date-time', description: 'When it happened (RFC 3339).' },
      ce_subject: { type: 'string', description: `The record key: the event's ${event.keyField}.` },
      'content-type': { type: 'string', const: 'application/avro', description: 'Avro binary in Confluent framing.' },
      traceparent: { type: 'string', description: 'W3C trace context of the publishing span.' },
      tracestate: { type: 'string', description: 'W3C vendor trace state.' },
      'correlation-id': { type: 'string', description: 'Id shared by every event of one business flow.' },
      'causation-id': { type: 'string', description: 'ce_id of the event that caused this one.' },
    },
  };
}

function message(event: EventContract, version: EventVersion): Record<string, unknown> {
  const doc = typeof version.schema.doc === 'string' ? version.schema.doc : event.type;
  return {
    name: version.ceType,
    title: `${event.name} v${version.version}`,
    summary: doc,
    contentType: 'application/avro',
    headers: headers(event, version),
    payload: { schemaFormat: AVRO_PAYLOAD_FORMAT, schema: version.schema },
    bindings: {
      kafka: {
        key: {
          type: 'string',
          description: `The event's ${event.keyField}: all events of one aggregate share a partition and stay in order.`,
        },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
        schemaLookupStrategy: 'TopicRecordNameStrategy',
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function channel(topic: TopicContract, events: EventContract[], ids: Map<EventVersion, string>): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  for (const event of events) {
    for (const version of event.versions) {
      const id = ids.get(version) ?? '';
      messages[id] = { $ref: `#/components/messages/${id}` };
    }
  }
  return {
    address: topic.name,
    title: topic.name,
    description: `${topic.description} Keyed by ${topic.keyField}; schema compatibility ${topic.compatibility}; written only by ${topic.owner}.`,
    messages,
    bindings: {
      kafka: {
        topic: topic.name,
        partitions: topic.partitions,
        topicConfiguration: { 'retention.ms': topic.retentionMs, 'cleanup.policy': topic.cleanupPolicy.split(',') },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

/**
 * The AsyncAPI 3.0.0 document of a catalog: a channel per topic, a message per event version
 * (Avro payload, CloudEvents headers, Kafka key), a `send` operation for the owner of each topic
 * and a `receive` operation for each subscriber. Deterministic YAML.
 */
export function generateAsyncApi(catalog: Catalog, options: AsyncApiOptions = {}): string {
  const ids = messageIds(catalog);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const topic of catalog.topics) {
    const channelId = camel(topic.name);
    const events = catalog.events.filter((event) => event.topic === topic.name);
    channels[channelId] = channel(topic, events, ids);
    const refs = events.flatMap((event) => event.versions.map((v) => ({ $ref: `#/channels/${channelId}/messages/${ids.get(v)}` })));
    operations[`${camel(topic.owner)}Publishes${pascal(topic.name)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `${topic.owner} publishes to ${topic.name}.`,
      messages: refs,
    };
    for (const subscriber of topic.subscribers) {
      operations[`${camel(subscriber)}Receives${pascal(topic.name)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${channelId}` },
        summary: `${subscriber} reads ${topic.name}.`,
        messages: refs,
      };
    }
    for (const event of events) for (const version of event.versions) messages[ids.get(version) ?? ''] = message(event, version);
  }
  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'Junction events',
      version: options.version ?? '0.1.0',
      description:
        'The domain events of Junction: one Kafka topic per aggregate, Avro payloads in Confluent framing (schemas in the registry under TopicRecordNameStrategy), CloudEvents headers. Generated by `./junction schemas docs` from schemas/; do not edit.',
    },
    defaultContentType: 'application/avro',
    servers: {
      local: {
        host: options.localBroker ?? '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local stack that `./junction up` starts.',
      },
    },
    channels,
    operations,
    components: { messages },
  };
  // No aliases: a reader (or a diff) should see every schema where it applies.
  return `# Generated by \`./junction schemas docs\` from schemas/. Do not edit.\n${stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}
