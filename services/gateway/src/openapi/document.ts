import type { EventContract } from '@junction/events';
import { IDEMPOTENCY_KEY, PROBLEM_SCHEMA, SAFE_ID } from '@junction/http';
import { writeScope } from '../events/catalog.ts';
import { avroToJsonSchema, type JsonSchema } from './json-schema.ts';
import { GUARD_RESPONSES, problem, REQUEST_ID_HEADERS, withGatewayHeaders } from './responses.ts';
import { type ProxyDescription, proxyPaths } from './services.ts';

/** What the document describes: the events, the issuer, the route table's proxies (with their backends' descriptions). */
export interface OpenApiOptions {
  events: Map<string, EventContract>;
  /** The OAuth issuer; its token endpoint is `<issuer>/token`. */
  issuer: string;
  /** Proxied routes: prefix, the scope of each method, and the backend's own description when it gave one. */
  proxies: readonly ProxyDescription[];
  /** The base URL clients use, e.g. `https://127.0.0.1:8080`. */
  serverUrl: string;
}

/** The answers of the gateway's own authenticated operations that are not theirs alone, with its headers. */
const COMMON_ERRORS = GUARD_RESPONSES;

/** Every answer of an operation under `/v1` carries the request id and the rate limit's headers. */
function rated(responses: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(responses).map(([status, answer]) => [status, withGatewayHeaders(answer, true)]));
}

/** The `Idempotency-Key` header: its one rule, {@link IDEMPOTENCY_KEY}, stated. */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  description:
    'Retries with the same key and body get the first answer and publish nothing again (kept 24 h). 1 to 128 letters, digits or . _ : -',
};

/** What the body parser answers before the event type is looked at. */
const BODY_ERRORS = {
  '413': problem('The body is larger than the gateway accepts'),
  '415': problem('The body is not JSON'),
};

function eventOperation(contract: EventContract): Record<string, unknown> {
  const latest = contract.versions.at(-1);
  const earlier = contract.versions.slice(0, -1).map((v) => v.version);
  // The body is the latest version's: an OpenAPI body cannot depend on a query parameter, so
  // `?version=N` (a body of version N, for producers not upgraded yet) is told, not described.
  const older = earlier.length
    ? ` A producer still on version ${earlier.join(' or ')} sends \`?version=N\` and a body of that version's schema (schemas/, or the AsyncAPI document).`
    : '';
  return {
    post: {
      operationId: `publish${contract.name}`,
      summary: `Publish a ${contract.name} event to ${contract.topic}`,
      description: `${String(latest?.schema.doc ?? '')} Validated against the event's Avro schema (version ${latest?.version}), published with acks=all, and answered once Kafka has acknowledged it.${older}`,
      tags: ['events'],
      security: [{ oauth2: [writeScope(contract.topic)] }],
      parameters: [
        IDEMPOTENCY_KEY_PARAMETER,
        {
          name: 'X-Correlation-Id',
          in: 'header',
          required: false,
          description: "Carried as the event's correlation-id header; 1 to 128 letters, digits or . _ : -",
          schema: { type: 'string', pattern: SAFE_ID.source },
        },
      ],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: latest ? avroToJsonSchema(latest.schema) : {} } },
      },
      responses: rated({
        '202': {
          description: 'Kafka acknowledged the event (or, with Idempotent-Replayed, did so for the first request with this key)',
          headers: {
            'Idempotent-Replayed': { description: 'This answer repeats an earlier one', required: false, schema: { const: 'true' } },
          },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
        },
        '400': problem(
          'The body is not JSON or does not match the schema (`errors` names every failing field path), or a bad Idempotency-Key or X-Correlation-Id',
        ),
        '409': problem('A request with the same Idempotency-Key is still being served', {
          'Retry-After': { required: true, schema: { type: 'string', pattern: '^\\d+$' } },
        }),
        ...BODY_ERRORS,
        '422': problem('The Idempotency-Key was used for a different request'),
        ...COMMON_ERRORS,
      }),
    },
  };
}

/**
 * The gateway's OpenAPI 3.1 document, built from the event catalog, the route table and each
 * backend's own description: every answer with the headers it always carries (X-Request-Id;
 * RateLimit and RateLimit-Policy under `/v1`), so a tool such as schemathesis can hold the
 * servers to it.
 */
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
      description: 'The body is read (as JSON) before the type is looked up, so a body that is not JSON is a 400, 413 or 415 first.',
      tags: ['events'],
      security: [{ oauth2: [] }],
      parameters: [{ name: 'type', in: 'path', required: true, schema: { type: 'string', not: { enum: [...options.events.keys()] } } }],
      requestBody: { required: false, content: { 'application/json': { schema: {} } } },
      responses: rated({
        '400': problem('The body is not valid JSON'),
        ...BODY_ERRORS,
        '404': problem('No such event type here; GET /v1/event-types lists those there are'),
        ...COMMON_ERRORS,
      }),
    },
  };
  paths['/v1/event-types'] = {
    get: {
      operationId: 'listEventTypes',
      summary: 'The event types this gateway publishes, and whether the caller may',
      tags: ['events'],
      security: [{ oauth2: [] }],
      responses: rated({
        '200': { description: 'The event types', content: { 'application/json': { schema: { $ref: '#/components/schemas/EventTypes' } } } },
        ...COMMON_ERRORS,
      }),
    },
  };
  for (const proxy of options.proxies) Object.assign(paths, proxyPaths(proxy));
  for (const [path, summary, schema] of [
    ['/healthz', 'The gateway process is alive', 'Alive'],
    ['/readyz', 'Kafka and the schema registry answer', 'Readiness'],
  ] as const) {
    paths[path] = {
      get: {
        operationId: path.slice(1),
        summary,
        tags: ['operations'],
        security: [],
        responses: {
          '200': {
            description: 'Yes',
            headers: REQUEST_ID_HEADERS,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
          },
          ...(path === '/readyz'
            ? {
                '503': {
                  description: 'No',
                  headers: REQUEST_ID_HEADERS,
                  content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } },
                },
              }
            : {}),
        },
      },
    };
  }
  paths['/v1/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document: the gateway, its events, and the services behind it as each describes itself',
      tags: ['operations'],
      security: [],
      responses: {
        '200': { description: 'OpenAPI 3.1', headers: REQUEST_ID_HEADERS, content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  const schemas: Record<string, JsonSchema> = {
    Problem: PROBLEM_SCHEMA,
    Alive: { type: 'object', required: ['status'], properties: { status: { const: 'alive' } } },
    Readiness: {
      type: 'object',
      required: ['status', 'checks'],
      properties: {
        status: { enum: ['ready', 'not ready', 'shutting down'] },
        checks: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['ok', 'ms'],
            properties: { ok: { type: 'boolean' }, ms: { type: 'integer', minimum: 0 } },
          },
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
