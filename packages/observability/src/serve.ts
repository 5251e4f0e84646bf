import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** Default 9464 (the OpenTelemetry Prometheus exporter's); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; `0.0.0.0` in a container, where Prometheus scrapes the pod's address. */
  host?: string;
  /** Whether the process's dependencies answer, for `/readyz`; default always ready. */
  ready?: () => Promise<boolean>;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (the process is alive) and `/readyz` (its
 * dependencies answer) on a port of their own, for processes without an HTTP API. A service with
 * one mounts the same handlers on its own app instead.
 */
export async function serveMetrics(metrics: Metrics, options: ServeMetricsOptions = {}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return answer(405, 'text/plain', 'only GET\n');
    if (path === '/metrics') {
      metrics.scrape().then(
        (text) => answer(200, metrics.registry.contentType, text),
        (error: unknown) => answer(500, 'text/plain', `metrics could not be collected: ${String(error)}\n`),
      );
      return;
    }
    if (path === '/healthz') return answer(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      (options.ready ?? (async () => true))().then(
        (ready) => answer(ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'not ready\n'),
        () => answer(503, 'text/plain', 'not ready\n'),
      );
      return;
    }
    answer(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  });
  // A scrape that never finishes must not hold a socket forever.
  server.requestTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
