import { z } from 'zod';

/** What an event type pattern may be: a fullname, a namespace followed by `.*`, or `*` for all. */
export const EVENT_PATTERN = /^(\*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?)$/;

/** Longest endpoint URL taken. */
export const MAX_URL_LENGTH = 2048;

const eventTypes = z
  .array(z.string().regex(EVENT_PATTERN, 'an event type (com.junction.orders.OrderPlaced), a namespace with .* or *'))
  .min(1)
  .max(50);
const description = z.string().max(500);

/** `POST /notifications/subscriptions`. */
export const createBody = z
  .object({
    url: z.string().min(1).max(MAX_URL_LENGTH),
    eventTypes,
    description: description.optional(),
    ordered: z.boolean().default(false),
  })
  .strict();

/** `PATCH /notifications/subscriptions/:id`: what is sent changes, the rest stays (`{}` changes nothing). */
export const updateBody = z
  .object({
    url: z.string().min(1).max(MAX_URL_LENGTH).optional(),
    eventTypes: eventTypes.optional(),
    description: description.nullable().optional(),
    ordered: z.boolean().optional(),
    enabled: z.boolean().optional().describe('false stops deliveries (they queue); true resumes them where they stopped'),
  })
  .strict();

/** Whether `type` is matched by `pattern`. */
export function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** Whether any of `patterns` matches `type`. */
export const matchesAny = (patterns: readonly string[], type: string): boolean => patterns.some((p) => matches(p, type));

/** Patterns that match none of `known`: a typo would otherwise subscribe to nothing, silently. */
export function unknownPatterns(patterns: readonly string[], known: readonly string[]): string[] {
  return patterns.filter((pattern) => !known.some((type) => matches(pattern, type)));
}

/**
 * Why `raw` cannot be an endpoint, or undefined: an absolute http(s) URL (https only unless
 * `allowHttp`), no credentials in it (they would be logged and sent in clear), no fragment.
 * Whether its host may be reached is decided on the resolved address at connect time.
 */
export function urlProblem(raw: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL, e.g. https://hooks.example.com/junction';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${url.protocol} is not a webhook scheme: use https:`;
  if (url.protocol === 'http:' && !allowHttp) return 'plain http: is not allowed here; use https:';
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not allowed; verify the signature instead';
  if (raw.includes('#')) return 'a fragment (#…) is never sent; leave it out';
  if (url.hostname === '') return 'no host';
  return undefined;
}
