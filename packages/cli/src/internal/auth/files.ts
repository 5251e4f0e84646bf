import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot, stateDir } from '../paths.ts';

/**
 * The CLI's side of the auth server's files. services/auth owns their formats (validated there
 * with zod; see services/auth/README.md) and the CLI may not import a service, so this reads
 * only the few fields it needs and leaves full validation to the server.
 */

/** Where one client's secret comes from, as services/auth/clients.yaml says. */
export type SecretSource = { env: string } | { file: string } | { generated: true };

/** One configured client, as far as the CLI needs it. */
export interface ConfiguredClient {
  id: string;
  scopes: string[];
  secret: SecretSource;
}

/** The auth server's configuration file: `--config`, `JUNCTION_AUTH_CONFIG`, or services/auth/clients.yaml. */
export function authConfigFile(flag?: string): string {
  return resolve(flag ?? process.env.JUNCTION_AUTH_CONFIG ?? join(repositoryRoot(), 'services', 'auth', 'clients.yaml'));
}

/**
 * The auth server's state directory (signing keys, generated secrets): `<--state-dir>/auth`,
 * else `JUNCTION_AUTH_STATE_DIR`, else `<the stack's state dir>/auth`, where `./junction up` keeps it.
 */
export function authStateDir(stackStateDir?: string): string {
  if (stackStateDir === undefined && process.env.JUNCTION_AUTH_STATE_DIR) return resolve(process.env.JUNCTION_AUTH_STATE_DIR);
  return join(stateDir(stackStateDir), 'auth');
}

/** Reads the configured clients; a file that is not what the server reads is an error naming it. */
export async function readClients(configFile: string): Promise<ConfiguredClient[]> {
  let document: unknown;
  try {
    document = parse(await readFile(configFile, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the auth configuration ${configFile}: ${(error as Error).message} → pass --config <file>`);
  }
  const clients = (document as { clients?: unknown } | null)?.clients;
  if (!Array.isArray(clients)) throw new Error(`${configFile} has no clients: list → see services/auth/clients.yaml`);
  return clients.map((raw, i) => {
    const client = raw as { id?: unknown; scopes?: unknown; secret?: Record<string, unknown> };
    if (typeof client.id !== 'string' || !Array.isArray(client.scopes)) {
      throw new Error(`${configFile}: clients.${i} needs an id and scopes → see services/auth/clients.yaml`);
    }
    const source = client.secret ?? { generated: true };
    const secret: SecretSource =
      typeof source.env === 'string'
        ? { env: source.env }
        : typeof source.file === 'string'
          ? { file: resolve(dirname(configFile), source.file) }
          : { generated: true };
    return { id: client.id, scopes: client.scopes.map(String), secret };
  });
}

/** Reads a client's secret the way the server does; the error says where it looked and what to do. */
export async function readClientSecret(client: ConfiguredClient, authDir: string): Promise<string> {
  const source = client.secret;
  if ('env' in source) {
    const secret = process.env[source.env]?.trim();
    if (!secret)
      throw new Error(`client ${client.id} takes its secret from the environment variable ${source.env}, which is not set → export it`);
    return secret;
  }
  const file = 'file' in source ? source.file : join(authDir, 'clients', `${client.id}.secret`);
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret) return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`cannot read client ${client.id}'s secret ${file}: ${(error as Error).message}`);
  }
  if ('file' in source) throw new Error(`client ${client.id}'s secret file ${file} is missing or empty → mount or write it`);
  throw new Error(
    `no secret for client ${client.id} at ${file}: the auth server makes it on its first start → run ./junction up (or point --state-dir at the stack the server runs in)`,
  );
}
