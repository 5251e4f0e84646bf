import type { IncomingHttpHeaders } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CALLER_HEADER, type HttpClient, isIdempotent, SCOPES_HEADER } from '@junction/http';
import { JunctionError } from '@junction/observability';
import type { Request, RequestHandler } from 'express';
import type { Route } from './route-table.ts';

/** Headers of one connection, not of the message (RFC 9110 §7.6.1): never forwarded, either way. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/**
 * Request headers the gateway does not pass on: the caller's credentials (the backend trusts the
 * gateway's CALLER_HEADER and SCOPES_HEADER, not the token), what the gateway sets itself (so a
 * caller cannot forge them), what undici sets or refuses, and the caller's claims about earlier hops: the
 * gateway is the edge (no proxy before it is trusted), so a backend must not read them as fact.
 */
const WITHHELD: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'host',
  'expect',
  CALLER_HEADER,
  SCOPES_HEADER,
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-real-ip',
]);

/** Hop-by-hop headers, with those the `Connection` header names. */
function hopByHop(headers: IncomingHttpHeaders): Set<string> {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return new Set([...HOP_BY_HOP, ...named]);
}

/**
 * Refused anywhere in the path as sent: `\` raw or encoded (WHATWG URL reads a raw one as `/` in
 * http(s) URLs and then resolves the dot segments around it; a backend may do the same with `%5C`)
 * and `#` (the target URL would end the path there).
 */
const REFUSED_IN_PATH = /[\\#]|%5c/i;

/**
 * Whether a decoded segment could move the backend out of the route: a dot segment, a separator,
 * a control character (a NUL ends the path for some backends), or a second layer of encoding of a
 * dot or separator (`%252e`), which a backend that decodes again would read as one.
 */
function unsafeSegment(segment: string): boolean {
  return (
    segment === '.' ||
    segment === '..' ||
    /[/\\]/.test(segment) ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
    /[\u0000-\u001f\u007f]/.test(segment) ||
    /%(2e|2f|5c)/i.test(segment)
  );
}

/** The base path the route reaches on its upstream: the upstream's own, plus what is kept of the prefix (`/orders`). */
function routeRoot(route: Route, base: URL): string {
  const kept = route.stripPrefix ? route.prefix.slice(route.stripPrefix.length) : route.prefix;
  return `${base.pathname.replace(/\/$/, '')}${kept}`;
}

/**
 * The gateway path of a backend's path, the inverse of what {@link proxyHandler} forwards
 * (`/orders/{id}` → `/v1/orders/{id}` for prefix `/v1/orders`, stripPrefix `/v1`); undefined for
 * a path outside the route's root, which no request through this route reaches.
 */
export function gatewayPathOf(route: Route, servicePath: string): string | undefined {
  const base = new URL(route.upstream);
  const root = routeRoot(route, base);
  if (servicePath !== root && !servicePath.startsWith(`${root}/`)) return undefined;
  const rest = servicePath.slice(base.pathname.replace(/\/$/, '').length);
  return `${route.stripPrefix ?? ''}${rest}`;
}

/** Where a route's backend describes its API: `/openapi.json` under the upstream's base path, as the service kit serves it. */
export function descriptionUrlOf(route: Route): string {
  const base = new URL(route.upstream);
  return `${base.origin}${base.pathname.replace(/\/$/, '')}/openapi.json`;
}

/**
 * The URL the backend is asked for, with the query as the caller sent it. Refuses (400) what could
 * step outside the route on the backend, then checks the URL as resolved: its path must still sit
 * under the route's root, whatever trick got past the first check.
 */
function targetOf(route: Route, originalUrl: string): string {
  const at = originalUrl.indexOf('?');
  const pathname = at < 0 ? originalUrl : originalUrl.slice(0, at);
  const query = at < 0 ? '' : originalUrl.slice(at);
  if (REFUSED_IN_PATH.test(pathname))
    throw new JunctionError('request.invalid', `the path ${pathname} holds a backslash or a #; send / as the only separator`);
  let segments: string[];
  try {
    segments = pathname.split('/').map(decodeURIComponent);
  } catch {
    throw new JunctionError('request.invalid', `the path ${pathname} is not valid percent-encoding`);
  }
  if (segments.some(unsafeSegment))
    throw new JunctionError(
      'request.invalid',
      `the path ${pathname} holds a . or .. segment, an encoded separator or a control character; send plain segments`,
    );
  const rest = route.stripPrefix && pathname.startsWith(route.stripPrefix) ? pathname.slice(route.stripPrefix.length) : pathname;
  const base = new URL(route.upstream);
  const root = routeRoot(route, base);
  const target = new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${rest.startsWith('/') ? rest : `/${rest}`}${query}`);
  if (target.origin !== base.origin || (root && target.pathname !== root && !target.pathname.startsWith(`${root}/`)))
    throw new JunctionError('request.invalid', `the path ${pathname} does not stay under ${route.prefix}; send it as ${route.prefix}/…`);
  return target.href;
}

/** A stream of the request body that fails as `request.too-large` past `limit` bytes; `overflow` says whether it did. */
function limited(req: Request, limit: number): { stream: Readable; overflow(): JunctionError | undefined } {
  let seen = 0;
  let overflow: JunctionError | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen <= limit) return done(null, chunk);
      overflow = tooLarge(limit);
      done(overflow);
    },
  });
  // undici listens only once it sends the body; an overflow before that must not go unhandled.
  stream.on('error', () => {});
  req.pipe(stream);
  req.once('error', (error) => stream.destroy(error));
  return { stream, overflow: () => overflow };
}

const tooLarge = (limit: number) =>
  new JunctionError('request.too-large', `the request body is larger than the ${limit} bytes this route forwards`, { context: { limit } });

/** The request body to send: none, the bytes (so that a retry can send them again), or a stream sent once. */
async function bodyOf(
  req: Request,
  route: Route,
  replay: boolean,
): Promise<{ body?: Buffer | Readable; length?: number; overflow?: () => JunctionError | undefined }> {
  // A body parser before this handler took the stream: send what it read.
  if (req.readableEnded || req.body !== undefined) {
    if (req.body === undefined || req.body === null) return {};
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    if (bytes.length > route.maxBodyBytes) throw tooLarge(route.maxBodyBytes);
    return { body: bytes, length: bytes.length };
  }
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return {};
  if (Number(declared) > route.maxBodyBytes) throw tooLarge(route.maxBodyBytes);
  const { stream, overflow } = limited(req, route.maxBodyBytes);
  if (!replay) return { body: stream, overflow };
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return { body: bytes, length: bytes.length };
}

/** The headers sent to the backend: the caller's, less hop-by-hop and withheld ones, plus who asked, from which address (the socket's), under which request id. */
function forwardedHeaders(req: Request, requestId: string | undefined): Record<string, string | string[]> {
  const skip = hopByHop(req.headers);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || skip.has(name) || WITHHELD.has(name)) continue;
    headers[name] = value;
  }
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? 'unknown';
  headers['x-forwarded-proto'] = req.protocol;
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  if (requestId) headers['x-request-id'] = requestId;
  // Read defensively: this handler declares nothing of its own on express's Request.
  const clientId = (req as { auth?: { clientId?: unknown } }).auth?.clientId;
  if (typeof clientId === 'string' && clientId) headers[CALLER_HEADER] = clientId;
  const scopes = (req as { auth?: { scopes?: unknown } }).auth?.scopes;
  if (scopes instanceof Set && scopes.size > 0) headers[SCOPES_HEADER] = [...scopes].map(String).sort().join(' ');
  return headers;
}

/**
 * The caller's version of an outbound failure: the client's messages name the upstream's host,
 * port and path, which are nobody's business outside the gateway, and the problem handler shows
 * these codes' messages. The original stays as the cause, and its message and context (upstream,
 * path, attempts, retryAfterMs) in the context, which the problem handler logs but never answers
 * with: the JSON logger writes an error's own fields, not its message or cause.
 */
function answerable(route: Route, error: unknown): unknown {
  if (!(error instanceof JunctionError)) return error;
  const afterMs = Number(error.context.retryAfterMs);
  const context = { ...error.context, route: route.name, upstreamError: error.message };
  const options = { cause: error, retriable: error.retriable, context };
  switch (error.code) {
    case 'timeout':
      return new JunctionError('timeout', `the ${route.name} service did not answer in time; try again later`, options);
    case 'upstream.unavailable':
      return new JunctionError('upstream.unavailable', `the ${route.name} service is unavailable; try again later`, options);
    case 'circuit.open': {
      const seconds = Number.isFinite(afterMs) ? Math.max(1, Math.ceil(afterMs / 1000)) : undefined;
      const pause = seconds === undefined ? '' : ` for ${seconds} s`;
      return new JunctionError('circuit.open', `the ${route.name} service is failing; calls are paused${pause}`, options);
    }
    default:
      return error;
  }
}

/** The methods of an `Allow` value that the route lets through, in the backend's order. */
export function allowedByRoute(route: Pick<Route, 'scopes'>, allow: string): string {
  const routed = new Set(Object.keys(route.scopes).map((m) => m.toUpperCase()));
  return allow
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => routed.has(m))
    .join(', ');
}

/**
 * Forwards requests under a route's prefix to its backend through the resilient client, and
 * streams the answer back. Mount it under the prefix (`app.use(route.prefix, …, proxyHandler(route, client))`)
 * behind the token and scope checks. Failures go to `next` as JunctionErrors for the problem
 * handler, naming the route but not the upstream's address: `timeout` (504), `upstream.unavailable`
 * (502), `circuit.open` (503 with Retry-After), `request.too-large` (413), `request.invalid` (400). A failure after the answer began cuts the connection: a half-sent
 * body must not look complete.
 */
export function proxyHandler(route: Route, client: HttpClient): RequestHandler {
  return async (req, res, next) => {
    const abandoned = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abandoned.abort(new JunctionError('internal', 'the caller went away'));
    };
    res.once('close', onClose);
    let overflow: (() => JunctionError | undefined) | undefined;
    try {
      const url = targetOf(route, req.originalUrl);
      const given = res.getHeader('x-request-id') ?? req.headers['x-request-id'];
      const requestId = typeof given === 'string' ? given : undefined;
      const headers = forwardedHeaders(req, requestId);
      const sending = await bodyOf(req, route, isIdempotent(req.method, headers));
      const { body, length } = sending;
      overflow = sending.overflow;
      if (length !== undefined) {
        headers['content-length'] = String(length);
        delete headers['transfer-encoding'];
      }
      const answer = await client.request({
        method: req.method,
        url,
        headers,
        ...(body === undefined ? {} : { body }),
        timeoutMs: route.timeoutMs,
        ...(route.retries === undefined ? {} : { retries: route.retries }),
        signal: abandoned.signal,
      });
      const skip = hopByHop(answer.headers as IncomingHttpHeaders);
      res.status(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !skip.has(name.toLowerCase())) res.setHeader(name, value);
      }
      // The backend's Allow names what it serves; through the gateway only what the route also allows.
      if (answer.status === 405 && typeof answer.headers.allow === 'string')
        res.setHeader('allow', allowedByRoute(route, answer.headers.allow));
      try {
        await pipeline(answer.body, res);
      } catch (error) {
        res.destroy(error as Error);
      }
    } catch (error) {
      if (abandoned.signal.aborted) return; // nobody is left to answer
      if (res.headersSent) {
        res.destroy(error as Error);
        return;
      }
      const refused = overflow?.() ?? (error instanceof JunctionError && error.code === 'request.too-large' ? error : undefined);
      // The rest of a refused body is still on its way: the connection cannot carry another request.
      if (refused) res.setHeader('connection', 'close');
      next(refused ?? answerable(route, error));
    } finally {
      res.off('close', onClose);
    }
  };
}
