import { JunctionError } from '@junction/observability';
import type { RequestHandler } from 'express';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import type { AuthContext } from './context.ts';

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /** The `iss` every token must carry, e.g. `http://127.0.0.1:8090`. */
  issuer: string;
  /** The `aud` every token must carry, e.g. `urn:junction:gateway`. */
  audience: string;
  /**
   * Where the issuer's keys are; default the `jwks_uri` of the issuer's OpenID discovery document
   * (`<issuer>/.well-known/openid-configuration`), fetched on first use.
   */
  jwksUrl?: string;
  /** Signature algorithms accepted; default ES256 and RS256. Never `none` or an HMAC. */
  algorithms?: string[];
  /** Seconds of clock difference tolerated on `exp` and `nbf`. Default 30. */
  clockToleranceSec?: number;
  /** Longest a token may live (`exp` - `iat`) in seconds; default 24 h. Refuses tokens minted to last for ever. */
  maxTokenAgeSec?: number;
  /** Milliseconds a JWKS fetch may take. Default 3000. */
  jwksTimeoutMs?: number;
  /** Milliseconds after a fetch before an unknown `kid` may fetch again. Default 30 s. */
  jwksCooldownMs?: number;
  /** Milliseconds the keys are trusted before they are fetched again. Default 10 min. */
  jwksMaxAgeMs?: number;
  /** The key resolver; default a cached remote JWKS. Tests and embedded issuers pass their own. */
  keys?: JWTVerifyGetKey;
  /** Verified tokens remembered until they expire, so a client's next request skips the signature check. Default 10,000; 0 turns it off. */
  cacheSize?: number;
}

const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;

const schema = z.object({
  issuer: z.url(),
  audience: z.string().min(1),
  jwksUrl: z.url().optional(),
  algorithms: z
    .array(z.enum(ALGORITHMS, { message: `an asymmetric algorithm: one of ${ALGORITHMS.join(', ')}` }))
    .min(1)
    .default(['ES256', 'RS256']),
  clockToleranceSec: z.number().int().min(0).max(300).default(30),
  maxTokenAgeSec: z
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  jwksTimeoutMs: z.number().int().min(100).default(3000),
  jwksCooldownMs: z.number().int().min(0).default(30_000),
  jwksMaxAgeMs: z.number().int().min(1000).default(600_000),
  cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
});

/** A token that verified, and until when (ms) it stays acceptable: its `exp` plus the tolerance. */
interface Verified {
  auth: AuthContext;
  until: number;
}

/** The scheme of every challenge, so clients know what to send. */
const REALM = 'Bearer realm="junction"';

/** Quotes a value for an RFC 6750 challenge parameter. */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, "'")}"`;
}

/** A 401 for `req`: RFC 6750's challenge rides along in the error's context for the problem handler. */
export function unauthenticated(message: string, tokenGiven: boolean, cause?: unknown): JunctionError {
  const challenge = tokenGiven ? `${REALM}, error="invalid_token", error_description=${quoted(message)}` : REALM;
  return new JunctionError('auth.unauthenticated', message, { cause, context: { headers: { 'www-authenticate': challenge } } });
}

/** Why jose refused a token, said for the caller; never echoes the token. */
function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired; get a new one';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (error.claim === 'iss') return 'the token was not issued by the issuer this service trusts (iss)';
    if (error.claim === 'aud') return 'the token is not meant for this service (aud)';
    if (error.claim === 'iat') return 'the token lives longer than this service accepts (iat)';
    return `the token's ${error.claim} claim is not acceptable`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this service does not accept';
  if (error instanceof errors.JWKSNoMatchingKey) return "the token's signing key (kid) is not one of the issuer's keys";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'the token is not a well-formed JWT';
  return 'the token cannot be verified';
}

/** Whether jose failed because the issuer's keys could not be fetched: our problem, not the caller's. */
function keysUnavailable(error: unknown): boolean {
  return (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    (error instanceof Error && !(error instanceof errors.JOSEError)) ||
    (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
  );
}

/** The scopes of a verified token: OAuth's space-separated `scope`, or `scp` as an array or, as Entra ID sends it, a space-separated string. */
export function tokenScopes(claims: JWTPayload): Set<string> {
  const scope = claims.scope;
  if (typeof scope === 'string') return new Set(scope.split(' ').filter(Boolean));
  const scp = claims.scp;
  if (typeof scp === 'string') return new Set(scp.split(' ').filter(Boolean));
  if (Array.isArray(scp)) return new Set(scp.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

/** The issuer's `jwks_uri`, from its OpenID discovery document; an `upstream.unavailable` when it cannot be had. */
async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<string> {
  const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const unavailable = (why: string, cause?: unknown) =>
    new JunctionError('upstream.unavailable', `the issuer's discovery document ${where} ${why}`, { cause, context: { discovery: where } });
  let document: unknown;
  try {
    const response = await fetch(where, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) throw unavailable(`answered ${response.status}`);
    document = await response.json();
  } catch (error) {
    if (error instanceof JunctionError) throw error;
    throw unavailable(`cannot be fetched: ${(error as Error).message}`, error);
  }
  const { issuer: named, jwks_uri: jwksUri } = (document ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
  if (named !== issuer) throw unavailable(`names the issuer ${JSON.stringify(named)}, not ${issuer}`);
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw unavailable('has no jwks_uri URL');
  return jwksUri;
}

/** How {@link discoveredKeys} fetches: the timeout of one discovery, and how long a failed one answers for itself. */
interface Discovery {
  timeoutMs: number;
  holdOffMs: number;
}

/**
 * A JWKS resolver whose URL is discovered on first use: one discovery at a time, and a failed one
 * is tried again by the first request after `holdOffMs` (its error is a 502, as an unreachable
 * JWKS is), so an issuer that is away is not asked once per request.
 */
function discoveredKeys(issuer: string, discovery: Discovery, remote: (url: URL) => JWTVerifyGetKey): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  let discovering: Promise<JWTVerifyGetKey> | undefined;
  return async (header, token) => {
    if (!keys) {
      discovering ??= discoverJwksUrl(issuer, discovery.timeoutMs).then(
        (url) => remote(new URL(url)),
        (error: unknown) => {
          setTimeout(() => {
            discovering = undefined;
          }, discovery.holdOffMs).unref();
          throw error;
        },
      );
      keys = await discovering;
    }
    return keys(header, token);
  };
}

/**
 * Verifies `Authorization: Bearer <JWT>` and sets `req.auth`. The signature is checked against the
 * issuer's JWKS, fetched with a timeout and cached; a token whose `kid` is unknown makes one fetch
 * (at most once per cooldown), which is how key rotation reaches this service. `iss`, `aud`,
 * `exp` and `nbf` (with a small clock tolerance) are required, and only asymmetric algorithms of
 * the allow-list are accepted, so `alg: none` and HS256 signed with the public key fail.
 * Refusals are 401 problems with an RFC 6750 challenge; an unreachable JWKS is a 502 (`upstream.unavailable`).
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new JunctionError('config.invalid', `bearerAuth options are not valid: ${problems.join('; ')}`, { context: { problems } });
  }
  const settings = parsed.data;
  const remote = (url: URL): JWTVerifyGetKey =>
    createRemoteJWKSet(url, {
      timeoutDuration: settings.jwksTimeoutMs,
      cooldownDuration: settings.jwksCooldownMs,
      cacheMaxAge: settings.jwksMaxAgeMs,
    });
  const keys =
    options.keys ??
    (settings.jwksUrl
      ? remote(new URL(settings.jwksUrl))
      : discoveredKeys(settings.issuer, { timeoutMs: settings.jwksTimeoutMs, holdOffMs: Math.min(settings.jwksCooldownMs, 1000) }, remote));
  const verifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: settings.algorithms,
    clockTolerance: settings.clockToleranceSec,
    maxTokenAge: settings.maxTokenAgeSec,
    requiredClaims: ['exp', 'iat'],
  };

  // Verifying an ES256 signature costs more than the rest of a request's auth; the same client
  // sends the same token until it expires. A token is only remembered after it verified, under
  // its whole text, and only until its `exp` (the claims cannot change, so neither can the
  // verdict). What this gives up: a key withdrawn from the JWKS stops its tokens only when they
  // expire, not at once (the issuer retires keys after their tokens expired anyway).
  const verified = new Map<string, Verified>();
  const remember = (token: string, auth: AuthContext) => {
    if (settings.cacheSize === 0 || typeof auth.claims.exp !== 'number') return;
    if (verified.size >= settings.cacheSize) verified.delete(verified.keys().next().value as string);
    const { exp, iat } = auth.claims;
    const until = Math.min(exp + settings.clockToleranceSec, (iat ?? exp) + settings.maxTokenAgeSec) * 1000;
    verified.set(token, { auth, until });
  };

  return function junctionBearerAuth(req, _res, next) {
    const header = req.headers.authorization;
    if (!header) {
      next(unauthenticated('an access token is required: send Authorization: Bearer <token>', false));
      return;
    }
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match?.[1]) {
      next(unauthenticated('the Authorization header must be "Bearer <token>"', true));
      return;
    }
    const token = match[1];
    const known = verified.get(token);
    if (known) {
      if (known.until > Date.now()) {
        req.auth = known.auth;
        next();
        return;
      }
      verified.delete(token);
    }
    jwtVerify(token, keys, verifyOptions).then(
      ({ payload }) => {
        const clientId =
          typeof payload.client_id === 'string' ? payload.client_id : typeof payload.sub === 'string' ? payload.sub : undefined;
        if (!clientId) {
          next(unauthenticated('the token names no client (client_id or sub)', true));
          return;
        }
        const auth: AuthContext = { clientId, scopes: tokenScopes(payload), claims: payload };
        remember(token, auth);
        req.auth = auth;
        next();
      },
      (error: unknown) => {
        if (keysUnavailable(error)) {
          next(
            new JunctionError('upstream.unavailable', "the issuer's signing keys cannot be fetched; try again shortly", {
              cause: error,
              context: { jwks: settings.jwksUrl ?? '(discovered)' },
            }),
          );
          return;
        }
        next(unauthenticated(refusal(error), true, error));
      },
    );
  };
}
