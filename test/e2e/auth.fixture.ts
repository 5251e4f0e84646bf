import { readFile } from 'node:fs/promises';
import { type AuthServer, generatedSecretFile, parseAuthConfig, startAuthServer } from '@junction/auth';

/** An access token of `client` (its secret generated in the auth server's `stateDir`) with `scope`, by the client credentials grant. */
export async function clientToken(options: { auth: AuthServer; stateDir: string; client: string; scope: string }): Promise<string> {
  const secret = (await readFile(generatedSecretFile(options.stateDir, options.client), 'utf8')).trim();
  const response = await fetch(options.auth.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${options.client}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`token for ${options.client}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** An auth server for a test: the gateway's audience, a new key signing at once, and `clients` with secrets generated in `stateDir`. */
export function testAuthServer(stateDir: string, clients: Array<{ id: string; scopes: string[] }>): Promise<AuthServer> {
  const config = { audience: 'urn:junction:gateway', tokenTtl: '15m', keyActivationDelay: '0', algorithm: 'ES256', clients };
  return startAuthServer({ config: parseAuthConfig(config, '(test configuration)'), stateDir });
}
