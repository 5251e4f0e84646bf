import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The CLI's side of the auth server's signing-key file, `<auth state dir>/signing-keys.json`,
 * format version 1 as services/auth/src/keys.ts defines and services/auth/README.md documents:
 * `{ version: 1, retireAfterSeconds, keys: [{ kid, alg, createdAt, privateJwk }] }`, oldest
 * first; the last key signs. The running server re-reads the file within seconds (or on SIGHUP)
 * and keeps its keys if an edit is not valid.
 */

/** Algorithms the auth server signs with. */
export const KEY_ALGORITHMS = ['ES256', 'RS256'] as const;

/** One stored key. */
export interface StoredKey {
  kid: string;
  alg: (typeof KEY_ALGORITHMS)[number];
  createdAt: string;
  privateJwk: Record<string, unknown>;
}

/** The key file. */
export interface KeyFile {
  version: 1;
  retireAfterSeconds: number;
  keys: StoredKey[];
}

/** The key file's path in an auth state directory. */
export const keyFilePath = (authDir: string): string => join(authDir, 'signing-keys.json');

/** Reads the key file; the error says to start the server when there is none. */
export async function readKeyFile(path: string): Promise<KeyFile> {
  let file: KeyFile;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `no signing keys at ${path}: the auth server makes them on its first start → run ./junction up (or pass --state-dir)`,
      );
    }
    throw new Error(`cannot read the signing keys ${path}: ${(error as Error).message}`);
  }
  if (file?.version !== 1 || !Array.isArray(file.keys) || file.keys.length === 0) {
    throw new Error(`${path} is not a version 1 signing-key file with keys → see services/auth/README.md`);
  }
  return file;
}

/** Writes the file atomically, mode 0600, as the server does. */
async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/** `signing` (the newest key), `published` (verifies tokens it signed), `retirable` (signed nothing still valid). */
export function keyStates(file: KeyFile, now = new Date()): Array<StoredKey & { state: 'signing' | 'published' | 'retirable' }> {
  return file.keys.map((key, i) => {
    const next = file.keys[i + 1];
    if (!next) return { ...key, state: 'signing' };
    const retirable = now.getTime() - Date.parse(next.createdAt) > file.retireAfterSeconds * 1000;
    return { ...key, state: retirable ? 'retirable' : 'published' };
  });
}

/** Appends a new key (RFC 7638 thumbprint as kid) that signs from now on; returns it. */
export async function rotateKeys(path: string, alg?: StoredKey['alg']): Promise<StoredKey> {
  const file = await readKeyFile(path);
  const algorithm = alg ?? file.keys.at(-1)?.alg ?? 'ES256';
  const { privateKey } =
    algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  const key: StoredKey = {
    kid: createHash('sha256').update(JSON.stringify(members)).digest('base64url'),
    alg: algorithm,
    createdAt: new Date().toISOString(),
    privateJwk: jwk,
  };
  await writeKeyFile(path, { ...file, keys: [...file.keys, key] });
  return key;
}

/** Removes the retirable keys; returns their kids. */
export async function retireKeys(path: string, now = new Date()): Promise<string[]> {
  const file = await readKeyFile(path);
  const retired = keyStates(file, now)
    .filter((key) => key.state === 'retirable')
    .map((key) => key.kid);
  if (retired.length > 0) await writeKeyFile(path, { ...file, keys: file.keys.filter((key) => !retired.includes(key.kid)) });
  return retired;
}
