import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { JunctionError } from '@junction/observability';
import type { LogSink } from './log.ts';

/** Options of {@link serveHttp}. */
export interface ServeOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** PEM files, or PEM contents already read: when given the server speaks HTTPS only. */
  tls?: { certFile: string; keyFile: string } | { cert: string | Buffer; key: string | Buffer };
  /**
   * Milliseconds between shutdown beginning (`accepting()` false, so `/readyz` answers 503) and the
   * listener closing, while requests are still served: long enough for load balancers to see the
   * 503 and stop sending. Default 0.
   */
  drainDelayMs?: number;
  /** Milliseconds in-flight requests get to finish at shutdown before their connections are cut. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Milliseconds a request may take to arrive in full (headers and body). Default 30 s. */
  requestTimeoutMs?: number;
  logger?: LogSink<'info' | 'warn'>;
}

/** A listening server and how to stop it gracefully. */
export interface RunningServer {
  /** `http(s)://host:port`. */
  readonly url: string;
  readonly server: Server;
  /** False once `shutdown` began: `/readyz` answers 503 so traffic drains away. */
  accepting(): boolean;
  /**
   * Says it no longer accepts work, keeps serving for `drainDelayMs`, then stops accepting
   * connections, lets in-flight requests finish (closing idle keep-alive connections at once), and
   * cuts what is left after `shutdownTimeoutMs`. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** Serves `app` over HTTP, or HTTPS when a certificate is configured, with request timeouts and a graceful stop. */
export async function serveHttp(app: RequestListener, options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  let server: Server;
  if (options.tls) {
    let cert: string | Buffer;
    let key: string | Buffer;
    try {
      cert = 'cert' in options.tls ? options.tls.cert : readFileSync(options.tls.certFile);
      key = 'key' in options.tls ? options.tls.key : readFileSync(options.tls.keyFile);
    } catch (error) {
      throw new JunctionError('config.invalid', `cannot read the TLS certificate or key: ${(error as Error).message}`, { cause: error });
    }
    server = createHttpsServer({ cert, key, minVersion: 'TLSv1.2' }, app) as unknown as Server;
  } else {
    server = createHttpServer(app);
  }
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 20_000);
  // Longer than common load balancers' idle timeouts, so they close first and never reuse a socket we closed.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new JunctionError('config.invalid', `cannot listen on ${host}:${options.port}: ${error.message}`, { cause: error })),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    server,
    accepting: () => stopping === undefined,
    shutdown() {
      stopping ??= drained(options.drainDelayMs ?? 0, options.logger).then(
        () =>
          new Promise<void>((resolve) => {
            const deadline = options.shutdownTimeoutMs ?? 10_000;
            const cut = setTimeout(() => {
              options.logger?.warn('requests still running at the shutdown deadline were cut', { deadlineMs: deadline });
              server.closeAllConnections();
            }, deadline);
            cut.unref();
            // A keep-alive connection busy at close() turns idle when its answer is out, and
            // nothing closes it then: without this sweep the stop waits for the client to hang up.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            sweep.unref();
            server.close(() => {
              clearTimeout(cut);
              clearInterval(sweep);
              resolve();
            });
            server.closeIdleConnections();
          }),
      );
      return stopping;
    },
  };
}

/** Waits out the drain delay, said in the log so an operator knows why the stop takes that long. */
async function drained(delayMs: number, logger: LogSink<'info' | 'warn'> | undefined): Promise<void> {
  if (delayMs <= 0) return;
  logger?.info('draining: /readyz answers 503 while requests are still served', { drainDelayMs: delayMs });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits: 0 when it finished, 1 when it
 * failed. A second signal exits at once.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger?: LogSink<'info' | 'error'>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger?.info('shutting down', { signal });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger?.error('shutdown failed', { err: error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
