import { Command } from 'commander';
import { integer } from '../internal/args.ts';
import { authConfigFile, authStateDir, readClientSecret, readClients } from '../internal/auth/files.ts';

/** Where `./junction up` runs the auth server. */
export const DEFAULT_AUTH_URL = 'http://127.0.0.1:8090';

/** Flags of `junction token`, and what {@link fetchToken} needs. */
export interface TokenFlags {
  client: string;
  scope?: string[];
  authUrl?: string;
  stateDir?: string;
  config?: string;
  timeout: number;
}

/** What the token endpoint answered. */
interface TokenAnswer {
  access_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

/** Asks the token endpoint, turning "nobody answers" into what to do about it. */
async function ask(
  url: string,
  authorization: string,
  body: URLSearchParams,
  timeoutMs: number,
): Promise<{ status: number; answer: TokenAnswer }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization, accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `did not answer within ${timeoutMs / 1000} s` : 'does not answer';
    throw new Error(`the auth server at ${new URL(url).origin} ${reason} → start it with ./junction up (or pass --auth-url)`);
  }
  let answer: TokenAnswer = {};
  try {
    answer = (await response.json()) as TokenAnswer;
  } catch {
    // Not the auth server's JSON: the status says enough below.
  }
  return { status: response.status, answer };
}

/** An access token of a configured client from the running auth server, with what it answered. */
export async function fetchToken(flags: TokenFlags): Promise<{ token: string; scope?: string; expiresIn?: number }> {
  const configFile = authConfigFile(flags.config);
  const clients = await readClients(configFile);
  const client = clients.find((c) => c.id === flags.client);
  if (!client) {
    throw new Error(`no client "${flags.client}" in ${configFile} → configured: ${clients.map((c) => c.id).join(', ') || 'none'}`);
  }
  const secret = await readClientSecret(client, authStateDir(flags.stateDir));
  // The server grants no scope unless asked (least privilege); without --scope ask for all the client may have.
  const scopes = flags.scope?.length ? flags.scope.flatMap((s) => s.split(/\s+/)).filter(Boolean) : client.scopes;
  const base = (flags.authUrl ?? process.env.JUNCTION_AUTH_URL ?? DEFAULT_AUTH_URL).replace(/\/+$/, '');
  // RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
  const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(secret)}`).toString('base64');
  const { status, answer } = await ask(
    `${base}/token`,
    `Basic ${basic}`,
    new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }),
    flags.timeout * 1000,
  );
  if (status === 200 && answer.access_token) {
    return {
      token: answer.access_token,
      ...(answer.scope !== undefined ? { scope: answer.scope } : {}),
      ...(answer.expires_in !== undefined ? { expiresIn: answer.expires_in } : {}),
    };
  }
  switch (answer.error) {
    case 'invalid_scope':
      throw new Error(
        `client ${client.id} may not have ${scopes.join(' ')} (${answer.error_description ?? 'refused'}) → it may have: ${client.scopes.join(' ')}`,
      );
    case 'invalid_client':
      throw new Error(
        `the auth server at ${base} refused client ${client.id} (invalid_client) → is it running with ${configFile} and state dir ${authStateDir(flags.stateDir)}? (--config, --state-dir)`,
      );
    default:
      throw new Error(
        `the auth server at ${base} answered ${status}${answer.error ? ` ${answer.error}: ${answer.error_description ?? ''}` : ''}`,
      );
  }
}

/** Prints an access token for a configured client, and only the token, on stdout. */
async function token(flags: TokenFlags): Promise<void> {
  const answer = await fetchToken(flags);
  process.stdout.write(`${answer.token}\n`);
  if (process.stdout.isTTY) {
    const expires = new Date(Date.now() + (answer.expiresIn ?? 0) * 1000);
    process.stderr.write(
      `scopes: ${answer.scope ?? '(none)'}; expires in ${answer.expiresIn ?? '?'} s, at ${expires.toLocaleTimeString()}\n`,
    );
  }
}

/** `junction token`: an access token for a configured client, for curl and scripts. */
export function tokenCommand(): Command {
  return new Command('token')
    .description('print an access token for a configured client (OAuth 2.0 client credentials), only the token on stdout')
    .requiredOption('--client <id>', 'the client, as configured in services/auth/clients.yaml (demo, shop, warehouse, ops)')
    .option('--scope <scope...>', "scopes to ask for (default: all the client's configured scopes)")
    .option('--auth-url <url>', `the auth server (default JUNCTION_AUTH_URL or ${DEFAULT_AUTH_URL})`)
    .option('--state-dir <dir>', "the stack's state directory; the client secrets are in its auth/ (default .junction)")
    .option('--config <file>', 'the auth configuration (default JUNCTION_AUTH_CONFIG or services/auth/clients.yaml)')
    .option('--timeout <seconds>', 'how long to wait for the auth server', integer(1, 120), 10)
    .addHelpText(
      'after',
      '\nExample:\n  TOKEN=$(./junction token --client demo)\n  curl -H "Authorization: Bearer $TOKEN" -H "content-type: application/json" \\\n    -d @order.json http://127.0.0.1:8080/v1/events/com.junction.orders.OrderPlaced',
    )
    .action(token);
}
