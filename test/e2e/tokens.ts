import { readFile } from 'node:fs/promises';
import { type AuthServer, generatedSecretFile } from '@junction/auth';

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
