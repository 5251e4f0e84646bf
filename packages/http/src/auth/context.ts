import type { JWTPayload } from 'jose';

/** Who called, as a verified access token says: set on `req.auth` by `bearerAuth`. */
export interface AuthContext {
  /** The OAuth client: `client_id`, else `sub`. Rate limits and idempotency keys are per client. */
  clientId: string;
  /** The token's scopes (`scope`, space-separated, or `scp`). */
  scopes: ReadonlySet<string>;
  /** Every verified claim, for handlers that need more than the above. */
  claims: JWTPayload;
}

declare global {
  namespace Express {
    interface Request {
      /** The verified caller; set by `bearerAuth`, absent on routes without it. */
      auth?: AuthContext;
      /** This request's id (`x-request-id`); set by `requestId`. */
      id?: string;
    }
  }
}
