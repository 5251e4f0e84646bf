import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpMetrics, type ServeOptions, serveHttp } from '@junction/http';
import { JunctionError, type Logger, type Metrics } from '@junction/observability';
import type Provider from 'oidc-provider';
import { type AuthConfig, loadAuthConfig } from './config.ts';
import {
  CLOCK_SKEW_SECONDS,
  type DescribedKey,
  describeKeys,
  ensureKeyFile,
  type KeyFile,
  keyFilePath,
  nextActivation,
  readKeyFile,
  retireKeyFile,
  rotateKeyFile,
  type StoredKey,
  signingKey,
} from './keys.ts';
import { buildProvider } from './provider.ts';
import { resolveClientSecrets } from './secrets.ts';

/** Options of {@link startAuthServer}. */
export interface AuthServerOptions {
  /** The configuration, or the path of its YAML file. */
  config: AuthConfig | string;
  /** Where signing keys and generated client secrets live (`.junction/auth` locally). */
  stateDir: string;
  /** Default 0 (any free port); the process entry uses 8090. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Overrides the configuration's issuer; default the listening URL. */
  issuer?: string;
  /** PEM certificate and key, as files or contents: serve HTTPS (TLS 1.2 at least). */
  tls?: ServeOptions['tls'];
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Served at `/metrics` when given (the process's observability metrics). */
  metrics?: Metrics;
  /** Read for `env` client secrets; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** How often the key file is checked for a rotation made elsewhere; default 2,000 ms. */
  keyCheckIntervalMs?: number;
  /** How long `close` lets in-flight requests finish before cutting connections; default 10,000 ms. */
  shutdownTimeoutMs?: number;
}

/** A running auth server. */
export interface AuthServer {
  /** The listening base URL. */
  readonly url: string;
  /** The `iss` of its tokens. */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  /** The signing keys now served, with their states. */
  keys(): DescribedKey[];
  /**
   * Adds a new key, in the JWKS at once, that signs once the activation delay passed (until then
   * the current key signs); older keys stay in the JWKS. Returns its kid.
   */
  rotateKeys(): Promise<string>;
  /** Removes keys that signed nothing still valid at `now`; returns their kids. */
  retireKeys(now?: Date): Promise<string[]>;
  /** Reads the key file again (as the periodic check and SIGHUP do); true when the keys changed. */
  reloadKeys(): Promise<boolean>;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), then resolves. */
  close(): Promise<void>;
}

const OIDC_ROUTES = new Set(['/token', '/jwks', '/.well-known/openid-configuration']);
const silent = { info() {}, warn() {}, error() {} } as unknown as Pick<Logger, 'info' | 'warn' | 'error'>;

/** Answers a small JSON body. */
function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** Tells the provider's token outcomes to the log, never a token or a secret. */
function observe(provider: Provider, logger: Pick<Logger, 'info' | 'warn' | 'error'>): void {
  type Ctx = { oidc?: { client?: { clientId: string }; entities?: { ClientCredentials?: { scope?: string } } } };
  provider.on('grant.success', ((ctx: Ctx) => {
    logger.info('token issued', { client_id: ctx.oidc?.client?.clientId, scope: ctx.oidc?.entities?.ClientCredentials?.scope ?? '' });
  }) as never);
  provider.on('grant.error', ((ctx: Ctx, error: { error?: string; error_description?: string }) => {
    logger.warn('token refused', { client_id: ctx.oidc?.client?.clientId, error: error.error, reason: error.error_description });
  }) as never);
  provider.on('server_error', ((_ctx: Ctx, error: Error) => logger.error('token endpoint failed', { error: error.message })) as never);
  // Koa prints unhandled errors to stderr unless someone listens.
  provider.on('error', ((error: Error) => logger.error('auth request failed', { error: error.message })) as never);
}

/**
 * Starts the authorization server: loads the configuration and client secrets, creates the
 * signing keys on first start, listens, and follows the key file so a rotation made by
 * `junction auth rotate-keys` takes effect without a restart.
 */
export async function startAuthServer(options: AuthServerOptions): Promise<AuthServer> {
  const logger = options.logger ?? silent;
  const config = typeof options.config === 'string' ? await loadAuthConfig(options.config) : options.config;
  const secrets = await resolveClientSecrets(config.clients, options.stateDir, options.env);
  const keyFile = keyFilePath(options.stateDir);
  let keys: KeyFile = await ensureKeyFile(keyFile, {
    alg: config.algorithm,
    retireAfterSeconds: config.tokenTtlSeconds + CLOCK_SKEW_SECONDS,
    activationDelaySeconds: config.keyActivationDelaySeconds,
  });
  let keysText = await readFile(keyFile, 'utf8');
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  const timing = httpMetrics();
  type Timed = Parameters<typeof timing>;

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    // httpMetrics reads only what node's request and response have (method, statusCode, 'finish').
    timing(req as unknown as Timed[0], res as unknown as Timed[1], () => {});
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || OIDC_ROUTES.has(path);
    // httpMetrics labels by the matched route; without express, this server says which it matched.
    if (known) (req as { route?: unknown }).route = { path };
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (draining) res.setHeader('connection', 'close');
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') return json(res, handler && !draining ? 200 : 503, { status: handler && !draining ? 'ready' : 'not ready' });
    if (path === '/metrics' && options.metrics) {
      const metrics = options.metrics;
      metrics.scrape().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: Error) => json(res, 500, { error: 'metrics unavailable', detail: error.message }),
      );
      return;
    }
    if (!handler) return json(res, 503, { error: 'temporarily_unavailable', error_description: 'the auth server is starting' });
    activate();
    handler(req, res);
  };

  // serveHttp brings request and header timeouts, TLS 1.2 at least, and the shutdown deadline.
  const host = options.host ?? '127.0.0.1';
  const running = await serveHttp(listener, {
    port: options.port ?? 0,
    host,
    ...(options.tls ? { tls: options.tls } : {}),
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    logger,
  });
  const { port } = running.server.address() as AddressInfo;
  // Not running.url: an IPv6 host needs its brackets in a URL.
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = (options.issuer ?? config.issuer ?? url).replace(/\/+$/, '');
  if (new URL(issuer).pathname !== '/') {
    await running.shutdown();
    throw new JunctionError('config.invalid', `the issuer ${issuer} has a path; this server serves its endpoints at the root`);
  }

  let signingKid = '';
  /** When a `next` key starts signing (ms), so the check per request is one comparison. */
  let activatesAt = Number.POSITIVE_INFINITY;
  const install = (next: KeyFile, now = new Date()) => {
    const provider = buildProvider({ issuer, config, secrets, keys: next, now });
    observe(provider, logger);
    handler = provider.callback();
    keys = next;
    signingKid = signingKey(next, now).kid;
    activatesAt = nextActivation(next, now)?.getTime() ?? Number.POSITIVE_INFINITY;
  };
  install(keys);
  /**
   * Switches the signing key once a `next` key's delay passed: checked before each request and by
   * the periodic check, so the switch is on time and the server never says one key signs while
   * signing with another. True when it switched.
   */
  const activate = (now = new Date()): boolean => {
    if (now.getTime() < activatesAt) return false;
    install(keys, now);
    logger.info('signing key activated', { signing_kid: signingKid });
    return true;
  };

  let reloading: Promise<boolean> | undefined;
  function reloadKeys(): Promise<boolean> {
    reloading ??= (async () => {
      try {
        const text = await readFile(keyFile, 'utf8');
        // Same file, but a published key's activation delay may have passed since.
        if (text === keysText) return activate();
        const next = await readKeyFile(keyFile);
        if (!next) return false;
        install(next);
        keysText = text;
        logger.info('signing keys reloaded', { signing_kid: signingKid, published: next.keys.length });
        return true;
      } catch (error) {
        // A broken edit must not take the server down: it keeps the keys it has.
        logger.error('signing keys not reloaded; keeping the current ones', { error: (error as Error).message });
        return false;
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  }
  /** A reload that reads the file after now: one already running may have read it before our write. */
  async function reloadAfterCurrent(): Promise<boolean> {
    await reloading;
    return reloadKeys();
  }
  const watcher = setInterval(() => void reloadKeys(), options.keyCheckIntervalMs ?? 2_000);
  watcher.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    issuer,
    tokenUrl: `${url}/token`,
    jwksUrl: `${url}/jwks`,
    keys: () => {
      const now = new Date();
      activate(now);
      return describeKeys(keys, now);
    },
    async rotateKeys() {
      const next = await rotateKeyFile(keyFile, { alg: config.algorithm });
      await reloadAfterCurrent();
      return (next.keys.at(-1) as StoredKey).kid;
    },
    async retireKeys(now) {
      const retired = await retireKeyFile(keyFile, now);
      await reloadAfterCurrent();
      return retired;
    },
    reloadKeys,
    close() {
      closing ??= (async () => {
        draining = true;
        clearInterval(watcher);
        // Answers still to come end their keep-alive connections, so close() need not wait them out.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
        await running.shutdown();
      })();
      return closing;
    },
  };
}
