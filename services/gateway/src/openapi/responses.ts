import { SAFE_ID } from '@junction/http';
import type { JsonSchema } from './json-schema.ts';

/** A problem+json answer. */
export const problem = (description: string, headers?: Record<string, JsonSchema>): JsonSchema => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** On every answer of the gateway (and of the services behind it, which echo the id they were given). */
export const REQUEST_ID_HEADERS: Record<string, JsonSchema> = {
  'X-Request-Id': {
    description: "The request's id, in every log line it caused: the caller's X-Request-Id when it is a plain id, else a new UUID",
    required: true,
    schema: { type: 'string', pattern: SAFE_ID.source },
  },
};

/** On every answer under `/v1` but the document itself: the address's and then the client's bucket set them first thing. */
export const RATE_HEADERS: Record<string, JsonSchema> = {
  RateLimit: {
    description: 'The bucket that answered, requests left in it and seconds until it is full again',
    required: true,
    schema: { type: 'string', pattern: '^"[a-z]+";r=\\d+;t=\\d+$' },
  },
  'RateLimit-Policy': {
    description: "The bucket's quota and window",
    required: true,
    schema: { type: 'string', pattern: '^"[a-z]+";q=\\d+;w=\\d+$' },
  },
};

const retryAfter = (required: boolean): JsonSchema => ({
  description: 'Seconds to wait before trying again',
  required,
  schema: { type: 'string', pattern: '^\\d+$' },
});

/**
 * What the gateway itself answers on any authenticated operation, before or instead of the
 * operation: no or a bad token, a missing scope, a rate limit, a dependency away. A backend's
 * answer cannot carry these for it: the gateway's checks come first.
 */
export const GUARD_RESPONSES: Record<string, JsonSchema> = {
  '401': problem('No valid access token', {
    'WWW-Authenticate': { description: 'RFC 6750 challenge', required: true, schema: { type: 'string', pattern: '^Bearer ' } },
  }),
  '403': problem('The token lacks the scope this operation needs', {
    'WWW-Authenticate': {
      description: 'RFC 6750 challenge naming the scope',
      required: true,
      schema: { type: 'string', pattern: '^Bearer ' },
    },
  }),
  '429': problem('Over the rate limit', { 'Retry-After': retryAfter(true) }),
  '502': problem('A dependency (the token issuer, or the service the route forwards to) failed', { 'Retry-After': retryAfter(true) }),
  '503': problem('A dependency is unavailable, or failing and paused; retry later', { 'Retry-After': retryAfter(false) }),
};

/** What the proxy answers for a forwarded operation besides the backend. */
export const PROXY_RESPONSES: Record<string, JsonSchema> = {
  '400': problem('The gateway refused the path: a . or .. segment, an encoded separator, a backslash or a control character'),
  '504': problem('The service did not answer in time', { 'Retry-After': retryAfter(true) }),
};

/** `answer` with the headers every answer of a `/v1` operation carries (`rated`: the rate limit's too). */
export function withGatewayHeaders(answer: JsonSchema, rated: boolean): JsonSchema {
  const own = (answer.headers ?? {}) as Record<string, JsonSchema>;
  return { ...answer, headers: { ...own, ...REQUEST_ID_HEADERS, ...(rated ? RATE_HEADERS : {}) } };
}
