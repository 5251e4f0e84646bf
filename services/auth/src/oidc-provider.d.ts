// oidc-provider ships no types: the small part of its API this service uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** An oidc-provider error: the OAuth `error` code, its description and HTTP status. */
  export class OIDCProviderError extends Error {
    error: string;
    error_description?: string;
    status: number;
  }

  /** The provider's error classes. */
  export const errors: {
    InvalidScope: new (description: string, scope: string) => OIDCProviderError;
    InvalidTarget: new (description?: string) => OIDCProviderError;
    InvalidClient: new (description?: string) => OIDCProviderError;
  };

  /** The request context oidc-provider hands to configuration callbacks. */
  export interface ProviderContext {
    oidc: { params?: Record<string, unknown>; client?: { clientId: string } };
  }

  /** An oidc-provider instance (a Koa application). */
  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export default Provider;
}
