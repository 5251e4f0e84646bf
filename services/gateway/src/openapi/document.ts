import type { EventContract } from '@junction/events';
import { writeScope } from '../events/catalog.ts';
import { avroToJsonSchema, type JsonSchema } from './json-schema.ts';

/** What the document describes besides the events. */
export interface OpenApiOptions {
  events: Map<string, EventContract>;
  /** The OAuth issuer; its token endpoint is `<issuer>/token`. */
  issuer: string;
  /** Proxied routes: prefix and the scope of each method. */
  proxies: ReadonlyArray<{ prefix: string; upstreamName: string; scopes: Readonly<Record<string, string>> }>;
  /** The base URL clients use, e.g. `https://127.0.0.1:8080`. */
  serverUrl: string;
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const RATE_HEADERS = {
  RateLimit: { description: 'Requests left in the current window and seconds until it is full again', schema: { type: 'string' } },
  'RateLimit-Policy': { description: "The client's quota and window", schema: { type: 'string' } },
};

/** Answers every authenticated operation may give. */
const COMMON_ERRORS = {
  '401': {
    ...problem('No valid access token'),
    headers: { 'WWW-Authenticate': { description: 'RFC 6750 challenge', schema: { type: 'string' } } },
  },
  '403': problem('The token lacks the scope this operation needs'),
  '429': {
    ...problem('Over the rate limit'),
    headers: { 'Retry-After': { schema: { type: 'integer' } }, ...RATE_HEADERS },
  },
  '502': problem('A dependency failed'),
  '503': { ...problem('A dependency is unavailable; retry later'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
};

function eventOperation(contract: EventContract): Record<string, unknown> {
  const latest = contract.versions.at(-1);
  const versions = contract.versions.map((v) => v.version);
  const bodies = Object.fromEntries(contract.versions.map((v) => [`v${v.version}`, avroToJsonSchema(v.schema)]));
  return {
    post: {
      operationId: `publish${contract.name}`,
      summary: `Publish a ${contract.name} event to ${contract.topic}`,
      description: `${String(latest?.schema.doc ?? '')} Validated against the event's Avro schema (version ${latest?.version} unless \`version\` names another), published with acks=all, and answered once Kafka has acknowledged it.`,
      tags: ['events'],
      security: [{ oauth2: [writeScope(contract.topic)] }],
      parameters: [
        { name: 'version', in: 'query', required: false, schema: { type: 'integer', enum: versions }, description: 'Schema version' },
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', minLength: 1, maxLength: 255 },
          description: 'Retries with the same key and body get the first answer and publish nothing again (kept 24 h)',
        },
        {
          name: 'X-Correlation-Id',
          in: 'header',
          required: false,
          description: "Carried as the event's correlation-id header; 1 to 128 letters, digits or . _ : -",
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      ],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: versions.length === 1 ? bodies[`v${versions[0]}`] : { anyOf: Object.values(bodies) } } },
      },
      responses: {
        '202': {
          description: 'Kafka acknowledged the event',
          headers: RATE_HEADERS,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
        },
        '400': problem('The body does not match the schema; `errors` names every failing field path'),
        '409': problem('A request with the same Idempotency-Key is still being served'),
        '413': problem('The body is larger than the gateway accepts'),
        '415': problem('The body is not JSON'),
        '422': problem('The Idempotency-Key was used for a different request'),
        ...COMMON_ERRORS,
      },
    },
  };
}

/** The gateway's OpenAPI 3.1 document, built from the event catalog and the route table. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const scopes: Record<string, string> = {};
  for (const contract of options.events.values()) scopes[writeScope(contract.topic)] = `Publish events to ${contract.topic}`;
  for (const proxy of options.proxies)
    for (const [method, scope] of Object.entries(proxy.scopes)) scopes[scope] ??= `${method} ${proxy.prefix} (${proxy.upstreamName})`;
  const paths: Record<string, unknown> = {};
  for (const contract of options.events.values()) paths[`/v1/events/${contract.type}`] = eventOperation(contract);
  paths['/v1/events/{type}'] = {
    post: {
      operationId: 'publishUnknownEvent',
      summary: 'Any other event type: not published through the gateway',
      tags: ['events'],
      security: [{ oauth2: [] }],
      parameters: [{ name: 'type', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '404': problem('No such event type here; GET /v1/event-types lists those there are'), ...COMMON_ERRORS },
    },
  };
  paths['/v1/event-types'] = {
    get: {
      operationId: 'listEventTypes',
      summary: 'The event types this gateway publishes, and whether the caller may',
      tags: ['events'],
      security: [{ oauth2: [] }],
      responses: {
        '200': { description: 'The event types', content: { 'application/json': { schema: { $ref: '#/components/schemas/EventTypes' } } } },
        ...COMMON_ERRORS,
      },
    },
  };
  for (const proxy of options.proxies) {
    const operations: Record<string, unknown> = {};
    for (const [method, scope] of Object.entries(proxy.scopes)) {
      operations[method.toLowerCase()] = {
        operationId: `${method.toLowerCase()}${proxy.upstreamName.replace(/[^A-Za-z0-9]/g, '')}`,
        summary: `Forwarded to ${proxy.upstreamName}`,
        tags: ['services'],
        security: [{ oauth2: [scope] }],
        parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          default: { description: `The answer of ${proxy.upstreamName}` },
          '504': problem('The service did not answer in time'),
          ...COMMON_ERRORS,
        },
      };
    }
    paths[`${proxy.prefix}/{path}`] = operations;
  }
  for (const [path, summary] of [
    ['/healthz', 'The gateway process is alive'],
    ['/readyz', 'Kafka and the schema registry answer'],
  ] as const) {
    paths[path] = {
      get: {
        operationId: path.slice(1),
        summary,
        tags: ['operations'],
        security: [],
        responses: { '200': { description: 'Yes' }, '503': { description: 'No' } },
      },
    };
  }
  const schemas: Record<string, JsonSchema> = {
    Problem: {
      type: 'object',
      description: 'RFC 9457 problem details, with Junction error code',
      required: ['type', 'title', 'status', 'detail', 'code', 'retriable'],
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
        code: { type: 'string' },
        retriable: { type: 'boolean' },
        instance: { type: 'string' },
        errors: {
          type: 'array',
          items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    Accepted: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'type', 'topic', 'partition', 'offset'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'The event id (ce_id)' },
        type: { type: 'string', description: 'The CloudEvents type, with the schema version' },
        topic: { type: 'string' },
        partition: { type: 'integer', minimum: 0 },
        offset: { type: 'string', pattern: '^\\d+$' },
      },
    },
    EventTypes: {
      type: 'object',
      required: ['eventTypes'],
      properties: {
        eventTypes: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'topic', 'scope', 'versions', 'allowed'],
            properties: {
              type: { type: 'string' },
              topic: { type: 'string' },
              scope: { type: 'string' },
              versions: { type: 'array', items: { type: 'integer' } },
              allowed: { type: 'boolean' },
            },
          },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Junction gateway',
      version: '1',
      description:
        'Publish domain events over HTTP and reach Junction services. Every call but the health checks needs an OAuth 2.0 access token (client credentials); errors are RFC 9457 problem+json.',
    },
    servers: [{ url: options.serverUrl }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: `${options.issuer.replace(/\/$/, '')}/token`, scopes } },
        },
      },
    },
  };
}
