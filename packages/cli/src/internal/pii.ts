import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePiiKey, type PiiKeyring, piiKeyringFromEnv } from '@junction/events';
import { stateDir } from './paths.ts';

/** Where the local stack keeps its PII key file: `<state dir>/secrets/pii-keys.json`. */
export function localPiiKeysPath(dir: string = stateDir()): string {
  return join(dir, 'secrets', 'pii-keys.json');
}

/** Whether the environment configures PII keys itself (then it, not the local file, is used). */
/** The variables that give a process the PII keys. */
export const PII_KEY_VARIABLES = ['JUNCTION_PII_KEYS', 'JUNCTION_PII_ACTIVE_KEY', 'JUNCTION_PII_KEYS_FILE'] as const;

export function envHasPiiKeys(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.JUNCTION_PII_KEYS?.trim() || env.JUNCTION_PII_KEYS_FILE?.trim());
}

/**
 * The local stack's key file, made on first use with one fresh key (mode 0600, in a 0700
 * directory); returns its path. Local development only: production keys come from a secret store.
 */
export async function ensureLocalPiiKeysFile(dir: string = stateDir()): Promise<string> {
  const path = localPiiKeysPath(dir);
  await mkdir(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  const { kid, key } = generatePiiKey('local-1');
  try {
    // `wx`: two commands starting at once must not each write a key and one lose the other's records.
    await writeFile(path, `${JSON.stringify({ active: kid, keys: { [kid]: key } }, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return path;
}

/**
 * Environment for a process the CLI starts (the gateway under `./junction up`): the local key
 * file as JUNCTION_PII_KEYS_FILE, made on first use — or nothing when the environment already
 * configures keys, which the child inherits.
 */
export async function localPiiEnv(dir: string = stateDir(), env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  if (envHasPiiKeys(env)) return {};
  return { JUNCTION_PII_KEYS_FILE: await ensureLocalPiiKeysFile(dir) };
}

/** The keyring of the CLI's own publishers and subscribers (demo): the environment's, else the local stack's key file. */
export async function cliPiiKeyring(dir: string = stateDir(), env: NodeJS.ProcessEnv = process.env): Promise<PiiKeyring> {
  const ring = piiKeyringFromEnv({ ...env, ...(await localPiiEnv(dir, env)) });
  // localPiiEnv gives a file whenever the environment gives nothing, so a ring is always there.
  return ring as PiiKeyring;
}
