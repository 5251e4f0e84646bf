import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** An answer read whole. */
export interface LoadAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Requests to one origin over kept-alive connections. */
export interface LoadClient {
  send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string, timeoutMs?: number): Promise<LoadAnswer>;
  /** Closes the idle connections. */
  close(): void;
}

/**
 * A plain node:http client for a load generator: kept-alive connections and nothing else. It costs
 * the machine a third of what `fetch` does per request, and the generator shares the cores of
 * what it measures. HTTPS trusts what Node trusts (NODE_EXTRA_CA_CERTS for a local CA).
 */
export function loadClient(baseUrl: string, maxSockets = 256): LoadClient {
  const origin = new URL(baseUrl);
  const https = origin.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
  const call = https ? httpsRequest : httpRequest;
  const prefix = origin.pathname.replace(/\/+$/, '');
  return {
    send(method, path, headers, body, timeoutMs = 10_000) {
      return new Promise<LoadAnswer>((resolve, reject) => {
        const req = call(
          {
            protocol: origin.protocol,
            hostname: origin.hostname,
            port: origin.port,
            path: `${prefix}${path}`,
            method,
            agent,
            headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
            timeout: timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer from ${origin.origin} within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
