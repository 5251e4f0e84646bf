/**
 * The headers the gateway tells a service who called in, once it verified the token and the
 * route's scope (it drops the token, and a caller's own copies of these): a service listens on
 * loopback, reached only through the gateway. One definition for both sides of that contract.
 */

/** The authenticated caller: its OAuth client id. */
export const CALLER_HEADER = 'x-junction-client';

/**
 * The caller's token's scopes, space-separated and sorted, for rights finer than a route's scope
 * (a webhook subscription that may carry personal data).
 */
export const SCOPES_HEADER = 'x-junction-scopes';
