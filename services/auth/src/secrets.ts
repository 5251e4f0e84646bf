import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import type { ClientConfig } from './config.ts';

/** Shorter secrets are refused: a client secret must resist guessing. */
const MIN_SECRET_LENGTH = 16;

/** Where the local default keeps a generated secret: `<stateDir>/clients/<id>.secret`, mode 0600. */
export function generatedSecretFile(stateDir: string, clientId: string): string {
  return join(stateDir, 'clients', `${clientId}.secret`);
}

/** Reads a secret file, creating it with a fresh random secret when `create` and it is missing. */
async function readSecretFile(path: string, create: boolean): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if (!create || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  // `wx`: if another process created it meanwhile, its secret wins and is read back.
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(path, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw error;
  }
}

/**
 * Resolves every client's secret (environment variable, mounted file, or the file generated on
 * first start under the state directory), reporting every missing one at once.
 */
export async function resolveClientSecrets(
  clients: readonly ClientConfig[],
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  const problems: string[] = [];
  for (const client of clients) {
    const source = client.secret;
    let secret: string | undefined;
    let where: string;
    try {
      if ('env' in source) {
        where = `environment variable ${source.env}`;
        secret = env[source.env]?.trim();
      } else if ('file' in source) {
        where = `file ${source.file}`;
        secret = await readSecretFile(source.file, false);
      } else {
        where = `file ${generatedSecretFile(stateDir, client.id)}`;
        secret = await readSecretFile(generatedSecretFile(stateDir, client.id), true);
      }
    } catch (error) {
      problems.push(`client ${client.id}: cannot read its secret (${(error as Error).message})`);
      continue;
    }
    if (!secret) problems.push(`client ${client.id}: its secret (${where}) is not set`);
    else if (secret.length < MIN_SECRET_LENGTH)
      problems.push(`client ${client.id}: its secret (${where}) is shorter than ${MIN_SECRET_LENGTH} characters`);
    else secrets.set(client.id, secret);
  }
  if (problems.length > 0) {
    throw new JunctionError('config.invalid', `client secrets are missing: ${problems.join('; ')}`, { context: { problems } });
  }
  return secrets;
}
