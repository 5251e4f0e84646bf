import { randomBytes } from 'node:crypto';
import Provider, { errors, type ProviderContext } from 'oidc-provider';
import type { AuthConfig } from './config.ts';
import { type KeyFile, signingKey } from './keys.ts';

/** What {@link buildProvider} needs: the configuration, the client secrets and the signing keys. */
export interface ProviderOptions {
  issuer: string;
  config: AuthConfig;
  secrets: ReadonlyMap<string, string>;
  keys: KeyFile;
  /** The moment whose signing key signs (see `signingKey`); default now. */
  now?: Date;
}

/**
 * Stores nothing: client credentials tokens are self-contained JWTs and introspection and
 * revocation are off, so there is nothing to look up later. (The bundled memory adapter would
 * keep every token and print a development warning.)
 */
class NoStoreAdapter {
  async upsert(): Promise<void> {}
  async find(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

/** The scopes a token request asked for, as oidc-provider parsed them. */
function requestedScopes(ctx: ProviderContext): string[] {
  const scope = ctx.oidc.params?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/**
 * An oidc-provider instance for the client credentials grant only, issuing JWT access tokens
 * for one resource server (the configured audience) signed with the key of `keys` that signs at
 * `now`. Keys are fixed per instance: a rotation or an activation builds a new instance (see server.ts).
 */
export function buildProvider(options: ProviderOptions): Provider {
  const { config, keys } = options;
  const signing = signingKey(keys, options.now);
  const allowed = new Map(config.clients.map((client) => [client.id, new Set(client.scopes)]));
  // The signing key goes first: it is the one a verifier meets most; next keys, then older ones follow.
  const ordered = [signing, ...keys.keys.filter((key) => key.kid !== signing.kid).reverse()];

  const provider = new Provider(options.issuer, {
    adapter: NoStoreAdapter,
    clients: config.clients.map((client) => ({
      client_id: client.id,
      client_secret: options.secrets.get(client.id),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: client.scopes.join(' '),
    })),
    jwks: { keys: ordered.map((key) => ({ ...key.privateJwk, kid: key.kid, alg: key.alg, use: 'sig' })) },
    // Every configured scope is a known one, so oidc-provider itself refuses another client's.
    scopes: [...new Set(config.clients.flatMap((client) => client.scopes))],
    claims: {},
    responseTypes: ['none'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signing.alg,
    },
    clientAuthMethods: ['client_secret_basic'],
    enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => config.audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx: ProviderContext, resource: string, client: { clientId: string }) => {
          if (resource !== config.audience) {
            throw new errors.InvalidTarget(`this server issues tokens for ${config.audience} only`);
          }
          const mayHave = allowed.get(client.clientId) ?? new Set<string>();
          // oidc-provider would silently drop a scope it does not know; refusing says what is wrong.
          for (const scope of requestedScopes(ctx)) {
            if (!mayHave.has(scope)) {
              throw new errors.InvalidScope(
                `client ${client.clientId} may not have scope ${scope}; it may have: ${[...mayHave].join(' ')}`,
                scope,
              );
            }
          }
          return {
            scope: [...mayHave].join(' '),
            audience: config.audience,
            accessTokenTTL: config.tokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signing.alg, kid: signing.kid } },
          };
        },
      },
    },
    ttl: { ClientCredentials: config.tokenTtlSeconds },
    formats: {
      customizers: {
        // `nbf` = `iat`: verifiers that check it (with their clock skew) get it explicitly.
        jwt: async (_ctx: unknown, _token: unknown, jwt: { payload: { iat?: number; nbf?: number } }) => {
          jwt.payload.nbf = jwt.payload.iat;
        },
      },
    },
  });
  return provider;
}
