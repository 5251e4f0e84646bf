import { lookup as dnsLookup } from 'node:dns';
import { type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { getCACertificates } from 'node:tls';
import type { AddressPolicy } from './address-policy.ts';

/** One webhook POST to send. */
export interface SendOptions {
  /** An absolute http: or https: URL. */
  url: string;
  /** JSON text, sent as UTF-8. */
  body: string;
  /** The webhook-* headers and any others; content-type, user-agent and content-length are the sender's and win. */
  headers: Record<string, string>;
  /** Judges every address the request would connect to. */
  policy: AddressPolicy;
  /** Deadline for DNS, the TCP connection and, for https, the TLS handshake. */
  connectTimeoutMs: number;
  /** Deadline for the whole request, until the (capped) response body is read. */
  timeoutMs: number;
  /** Response bodies are read up to this many bytes, then the connection is dropped (truncated: true, not an error). */
  maxResponseBytes: number;
  /** An extra CA trusted for https besides the default ones (the local stack's CA). */
  ca?: string | Buffer;
}

/**
 * What became of a webhook POST. Any HTTP status is an answer, 3xx included. A failure's reason:
 * `blocked`, nothing was sent (a refused address, or a URL or header that cannot be sent);
 * `timeout`, a deadline passed; `refused`, nothing listens there; `dns`, the name does not resolve;
 * `tls`, the TLS handshake failed (an untrusted or mismatched certificate); `network`, anything else.
 */
export type SendResult =
  | { kind: 'answered'; status: number; body: string; truncated: boolean; durationMs: number }
  | { kind: 'failed'; reason: 'blocked' | 'timeout' | 'refused' | 'dns' | 'tls' | 'network'; error: string; durationMs: number };

type Reason = Extract<SendResult, { kind: 'failed' }>['reason'];

type Phase = 'connecting' | 'handshaking' | 'waiting';

const USER_AGENT = 'Junction-Webhooks/1';

// The code of the error our lookup gives when policy refuses every address a name resolves to.
const BLOCKED = 'EJUNCTION_BLOCKED';
const DNS_MISSING = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/** POSTs one webhook: the address is checked at connect time (after DNS, so a name that resolves to a private address is refused, and a DNS answer that changes between a check and the connect cannot slip through), redirects are never followed (a 3xx is an answer like any other), the response is read up to a cap, and every phase has a deadline. */
export function sendWebhook(options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  const blocked = (error: string): Promise<SendResult> =>
    Promise.resolve({ kind: 'failed', reason: 'blocked', error, durationMs: durationMs() });
  const target = targetOf(options.url);
  if (typeof target === 'string') return blocked(target);
  // Node skips the lookup hook for an IP literal, so a literal is judged here, before any SYN.
  const refusal = isIP(target.host) ? options.policy.refusal(target.host) : undefined;
  if (refusal !== undefined) return blocked(refusal);
  return new Promise((resolve) => {
    let settled = false;
    let phase: Phase = 'connecting';
    let request: ClientRequest | undefined;
    let partial: { status: number; body: () => string } | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      // Always destroy: after a cut-off body the socket is still open, and with agent: false nothing else would close it.
      request?.destroy();
      resolve(result);
    };
    const fail = (reason: Reason, error: string) => settle({ kind: 'failed', reason, error, durationMs: durationMs() });
    const answer = (status: number, body: string, truncated: boolean) =>
      settle({ kind: 'answered', status, body, truncated, durationMs: durationMs() });
    const connected = () => {
      phase = 'waiting';
      clearTimeout(connectTimer);
    };

    connectTimer = setTimeout(() => {
      const tls = phase === 'handshaking' ? ' (TLS handshake unfinished)' : '';
      fail('timeout', `timeout: no connection within ${options.connectTimeoutMs} ms${tls}`);
    }, options.connectTimeoutMs);
    deadline = setTimeout(() => {
      // The receiver has answered with a status; a body that trickles past the deadline is only cut short.
      if (partial) answer(partial.status, partial.body(), true);
      else fail('timeout', `timeout: no answer within ${options.timeoutMs} ms`);
    }, options.timeoutMs);

    const requestOptions: RequestOptions = {
      hostname: target.host,
      port: target.port,
      path: target.path,
      method: 'POST',
      ...(target.auth === undefined ? {} : { auth: target.auth }),
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'content-length': String(Buffer.byteLength(options.body)),
      },
      // A fresh connection per delivery: a pooled socket would skip the address check of a new connect.
      agent: false,
      lookup: guardedLookup(options.policy),
    };
    try {
      request = target.https
        ? httpsRequest({ ...requestOptions, ...(options.ca === undefined ? {} : { ca: [...getCACertificates('default'), options.ca] }) })
        : httpRequest(requestOptions);
    } catch (error) {
      // Only what cannot be put on the wire throws here, such as a header value with a newline.
      fail('blocked', `cannot send: ${messageOf(error)}`);
      return;
    }

    request.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        // A second guard on the address really reached, whatever path led there.
        const refused = options.policy.refusal(socket.remoteAddress ?? '');
        if (refused !== undefined) fail('blocked', refused);
        else if (target.https) phase = 'handshaking';
        else connected();
      });
      if (target.https) socket.once('secureConnect', connected);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const [reason, text] = classify(error, target, phase);
      fail(reason, text);
    });
    request.on('response', (response: IncomingMessage) => {
      connected();
      const status = response.statusCode ?? 0;
      const decoder = new TextDecoder('utf-8');
      let body = '';
      let received = 0;
      partial = { status, body: () => body };
      response.on('data', (chunk: Buffer) => {
        const room = options.maxResponseBytes - received;
        received += chunk.length;
        // Decoding in stream mode holds back a character split by the cut, so none is half-kept.
        body += decoder.decode(chunk.length > room ? chunk.subarray(0, room) : chunk, { stream: true });
        if (received > options.maxResponseBytes) answer(status, body, true);
      });
      response.on('end', () => answer(status, body + decoder.decode(), false));
      response.on('error', () => {});
      // A connection lost mid-body: the status stands, the body is what arrived.
      response.on('close', () => answer(status, body, true));
    });
    request.end(options.body);
  });
}

interface Target {
  https: boolean;
  host: string;
  port: number;
  path: string;
  auth: string | undefined;
}

function targetOf(url: string): Target | string {
  // The URL is not echoed back: its query or credentials may hold secrets.
  if (!URL.canParse(url)) return 'not an absolute URL';
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `webhook URLs are http: or https:, not ${parsed.protocol}`;
  const https = parsed.protocol === 'https:';
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  let auth: string | undefined;
  try {
    auth = parsed.username === '' ? undefined : `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  } catch {
    return "the URL's credentials are not valid percent-encoding";
  }
  return { https, host, port: Number(parsed.port || (https ? 443 : 80)), path: `${parsed.pathname}${parsed.search}`, auth };
}

/** A lookup that resolves every address of a name and keeps only those the policy allows. */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      const allowed = addresses.filter((a) => policy.refusal(a.address) === undefined);
      const first = allowed[0];
      if (first === undefined) {
        const why = addresses.map((a) => policy.refusal(a.address)).join('; ');
        return callback(Object.assign(new Error(`${hostname}: ${why}`), { code: BLOCKED }), '');
      }
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

function classify(error: NodeJS.ErrnoException, target: Target, phase: Phase): [Reason, string] {
  // With several addresses Node tries each and reports them together; the first says enough.
  const cause = (error instanceof AggregateError ? error.errors[0] : error) as NodeJS.ErrnoException & { address?: string; port?: number };
  const code = cause.code ?? error.code ?? '';
  if (code === BLOCKED) return ['blocked', cause.message];
  if (DNS_MISSING.has(code)) return ['dns', `dns: no address for ${target.host}`];
  if (cause.syscall === 'getaddrinfo' || code.startsWith('EAI_')) return ['dns', `dns: ${target.host} could not be resolved (${code})`];
  if (code === 'ECONNREFUSED') {
    const host = cause.address ?? target.host;
    return ['refused', `connection refused by ${isIP(host) === 6 ? `[${host}]` : host}:${cause.port ?? target.port}`];
  }
  if (phase === 'handshaking' || /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code)) {
    return ['tls', `tls: ${cause.message}${code ? ` (${code})` : ''}`];
  }
  return ['network', `network: ${cause.message}${code ? ` (${code})` : ''}`];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
