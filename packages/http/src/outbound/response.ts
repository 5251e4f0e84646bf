import type { Readable } from 'node:stream';
import { JunctionError } from '@junction/observability';
import type { Dispatcher } from 'undici';
import { transportFailure } from './policy.ts';

type IncomingHttpHeaders = Dispatcher.ResponseData['headers'];

/** Where a call went, for errors' context: never the query string (it may hold secrets) nor any header. */
export interface CallSite {
  upstream: string;
  method: string;
  path: string;
}

/** An upstream's answer. The body is a stream, bounded in size and in time; read it or dump it. */
export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it arrives; fails past the upstream's `maxResponseBytes`, `bodyTimeoutMs` or the call's deadline. */
  body: Readable;
  /** Requests sent for this answer, retries included. */
  attempts: number;
  /** The whole body as text; failures are JunctionErrors. */
  text(): Promise<string>;
  /** The whole body parsed as JSON. */
  json<T = unknown>(): Promise<T>;
  /** The whole body as bytes. */
  bytes(): Promise<Buffer>;
  /** Reads and discards the body, so the connection can serve another call. */
  dump(): Promise<void>;
}

/** The JunctionError for a body that failed while read: too large, too slow, cut off, or the call's deadline. */
export function bodyError(error: unknown, site: CallSite, limits: { maxResponseBytes: number; bodyTimeoutMs: number }): JunctionError {
  if (error instanceof JunctionError) return error;
  const context = { ...site };
  const where = `${site.method} ${site.upstream}${site.path}`;
  switch (transportFailure(error).kind) {
    case 'too-large':
      return new JunctionError(
        'upstream.unavailable',
        `${where}: the response body is larger than the ${limits.maxResponseBytes} bytes allowed (maxResponseBytes)`,
        { cause: error, retriable: false, context: { ...context, maxResponseBytes: limits.maxResponseBytes } },
      );
    case 'body-timeout':
      return new JunctionError('timeout', `${where}: the response body stalled for ${limits.bodyTimeoutMs} ms (bodyTimeoutMs)`, {
        cause: error,
        context: { ...context, bodyTimeoutMs: limits.bodyTimeoutMs },
      });
    default:
      return new JunctionError('upstream.unavailable', `${where}: the response body was cut off`, { cause: error, context });
  }
}

/** Wraps undici's body with readers that fail as JunctionErrors. */
export function outboundResponse(
  answer: Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>,
  attempts: number,
  fail: (error: unknown) => JunctionError,
): OutboundResponse {
  const { body } = answer;
  const read = async <T>(reader: () => Promise<T>): Promise<T> => {
    try {
      return await reader();
    } catch (error) {
      throw fail(error);
    }
  };
  return {
    status: answer.statusCode,
    headers: answer.headers,
    body,
    attempts,
    text: () => read(() => body.text()),
    json: async <T>() => {
      const text = await read(() => body.text());
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw fail(Object.assign(new Error('the response body is not valid JSON'), { cause: error }));
      }
    },
    bytes: async () => Buffer.from(await read(() => body.bytes())),
    dump: () => read(() => body.dump()),
  };
}
