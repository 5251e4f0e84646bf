import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { z } from 'zod';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './config.ts';

/**
 * The signing-key file, `<stateDir>/signing-keys.json` (mode 0600), format version 1 — the
 * contract with `junction auth`, which edits the same file (see services/auth/README.md):
 * `{ version: 1, retireAfterSeconds, activationDelaySeconds?, keys: [{ kid, alg, createdAt, privateJwk }] }`,
 * keys in the order they were made. Every key is published in the JWKS until retired; the newest
 * key whose `createdAt + activationDelaySeconds` has passed signs (the first key at once), so
 * verifiers have fetched a new key before any token carries its kid.
 */
export const KEY_FILE_NAME = 'signing-keys.json';

/** Clock skew a verifier may allow past `exp`, so a retired key outlives every token it signed. */
export const CLOCK_SKEW_SECONDS = 60;

/** One signing key as stored: a private JWK with its key id, algorithm and creation time. */
export interface StoredKey {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: string;
  privateJwk: Record<string, unknown>;
}

/** The contents of the key file. */
export interface KeyFile {
  version: 1;
  /** A key superseded longer ago than this (token TTL plus skew) signed nothing still valid. */
  retireAfterSeconds: number;
  /**
   * How long a new key is published before it signs (longer than verifiers' JWKS refetch
   * cooldown). Optional in format version 1: absent in files written before it existed, read as 0.
   */
  activationDelaySeconds?: number;
  keys: StoredKey[];
}

/**
 * `next`: published, signs once its activation delay passed; `signing`: signs new tokens;
 * `published`: verifies tokens it signed; `retirable`: signed nothing still valid.
 */
export type KeyState = 'next' | 'signing' | 'published' | 'retirable';

/** A stored key with its state at some moment. */
export interface DescribedKey extends StoredKey {
  state: KeyState;
  /** When a `next` key starts signing. */
  activatesAt?: string;
  /** When the next key took over signing. */
  supersededAt?: string;
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  retireAfterSeconds: z.number().int().positive(),
  activationDelaySeconds: z.number().nonnegative().optional(),
  keys: z
    .array(
      z.strictObject({
        kid: z.string().min(1),
        alg: z.enum(SIGNING_ALGORITHMS),
        createdAt: z.iso.datetime(),
        privateJwk: z.looseObject({ kty: z.enum(['EC', 'RSA']), d: z.string().min(1) }),
      }),
    )
    .min(1, 'the file holds no key'),
});

/** The key file's path under a state directory. */
export function keyFilePath(stateDir: string): string {
  return join(stateDir, KEY_FILE_NAME);
}

/** RFC 7638 thumbprint of the public key: a stable `kid` that anyone can recompute. */
function thumbprint(jwk: Record<string, unknown>): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Makes a new private key for `alg` (P-256 for ES256, 2048-bit RSA for RS256). */
export function newKey(alg: SigningAlgorithm, now = new Date()): StoredKey {
  const { privateKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateJwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kid: thumbprint(privateJwk), alg, createdAt: now.toISOString(), privateJwk };
}

/** Reads and validates the key file; `undefined` when there is none yet. */
export async function readKeyFile(path: string): Promise<KeyFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JunctionError('config.invalid', `cannot read the signing keys ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new JunctionError('config.invalid', `${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new JunctionError('config.invalid', `${path} is not a valid signing-key file: ${problems.join('; ')}`, {
      context: { file: path, problems },
    });
  }
  return parsed.data as KeyFile;
}

/** Writes the key file atomically (a reader never sees half a file), mode 0600. */
export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/** When the key at `index` starts signing (ms): the first key at once, later ones after the activation delay. */
function activationTime(file: KeyFile, index: number): number {
  const created = Date.parse(file.keys[index]?.createdAt ?? '');
  return index === 0 ? created : created + (file.activationDelaySeconds ?? 0) * 1000;
}

/** The index of the key that signs at `now`: the newest one activated, and never before the first. */
function signingIndex(file: KeyFile, now: Date): number {
  if (file.keys.length === 0) throw new JunctionError('config.invalid', 'the signing-key file holds no key');
  let index = 0;
  for (let i = 1; i < file.keys.length; i++) if (activationTime(file, i) <= now.getTime()) index = i;
  return index;
}

/** Each key with its state at `now`. */
export function describeKeys(file: KeyFile, now = new Date()): DescribedKey[] {
  const signing = signingIndex(file, now);
  return file.keys.map((key, i) => {
    if (i === signing) return { ...key, state: 'signing' };
    if (i > signing) return { ...key, state: 'next', activatesAt: new Date(activationTime(file, i)).toISOString() };
    // Superseded when the key after it began signing, not when it was made: until then this one signed.
    const supersededAt = activationTime(file, i + 1);
    const age = (now.getTime() - supersededAt) / 1000;
    return {
      ...key,
      state: age > file.retireAfterSeconds ? 'retirable' : 'published',
      supersededAt: new Date(supersededAt).toISOString(),
    };
  });
}

/** The key that signs at `now`: the newest whose activation delay has passed (the first key at once). */
export function signingKey(file: KeyFile, now = new Date()): StoredKey {
  return file.keys[signingIndex(file, now)] as StoredKey;
}

/** When the next published key starts signing after `now`; `undefined` when none waits. */
export function nextActivation(file: KeyFile, now = new Date()): Date | undefined {
  const waiting = file.keys.map((_, i) => activationTime(file, i)).filter((time, i) => i > 0 && time > now.getTime());
  return waiting.length > 0 ? new Date(Math.min(...waiting)) : undefined;
}

/** The newest key: the one a rotation or an algorithm change added last, signing or not yet. */
function newestKey(file: KeyFile): StoredKey {
  const key = file.keys.at(-1);
  if (!key) throw new JunctionError('config.invalid', 'the signing-key file holds no key');
  return key;
}

/** Options of {@link ensureKeyFile}. */
export interface EnsureKeysOptions {
  alg: SigningAlgorithm;
  /** Token TTL plus {@link CLOCK_SKEW_SECONDS}. */
  retireAfterSeconds: number;
  /** How long a new key is published before it signs; default: what the file says (0 for a new file). */
  activationDelaySeconds?: number;
  now?: Date;
}

/**
 * Opens the key file for a starting server: creates it with one key on first start, adds a key
 * when the configured algorithm changed (it signs after the activation delay, like a rotation),
 * and records the retire delay of the current TTL and the configured activation delay.
 */
export async function ensureKeyFile(path: string, options: EnsureKeysOptions): Promise<KeyFile> {
  const now = options.now ?? new Date();
  const existing = await readKeyFile(path);
  const delay = options.activationDelaySeconds ?? existing?.activationDelaySeconds;
  if (
    existing &&
    newestKey(existing).alg === options.alg &&
    existing.retireAfterSeconds === options.retireAfterSeconds &&
    existing.activationDelaySeconds === delay
  ) {
    return existing;
  }
  const file: KeyFile = {
    version: 1,
    retireAfterSeconds: options.retireAfterSeconds,
    ...(delay !== undefined ? { activationDelaySeconds: delay } : {}),
    keys: existing ? [...existing.keys] : [],
  };
  if (!existing || newestKey(existing).alg !== options.alg) file.keys.push(newKey(options.alg, now));
  await writeKeyFile(path, file);
  return file;
}

/**
 * Adds a new key (same algorithm as the newest unless `alg`): published at once, signing after
 * the file's activation delay; older keys stay published.
 */
export async function rotateKeyFile(path: string, options: { alg?: SigningAlgorithm; now?: Date } = {}): Promise<KeyFile> {
  const file = await readKeyFile(path);
  if (!file) throw new JunctionError('config.invalid', `no signing keys at ${path} yet: start the auth server once first`);
  const next = { ...file, keys: [...file.keys, newKey(options.alg ?? newestKey(file).alg, options.now)] };
  await writeKeyFile(path, next);
  return next;
}

/** Removes the keys that signed nothing still valid at `now`; returns the removed key ids. */
export async function retireKeyFile(path: string, now = new Date()): Promise<string[]> {
  const file = await readKeyFile(path);
  if (!file) return [];
  const described = describeKeys(file, now);
  const retired = described.filter((key) => key.state === 'retirable').map((key) => key.kid);
  if (retired.length > 0) await writeKeyFile(path, { ...file, keys: file.keys.filter((key) => !retired.includes(key.kid)) });
  return retired;
}
