import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { JunctionError } from '@junction/observability';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The keys that encrypt and decrypt `junction.pii` fields: one active key (new ciphertexts) and
 * any number of older ones kept to read what they wrote. Key material never leaves the ring:
 * printing or logging a ring shows its key ids only.
 */
export interface PiiKeyring {
  /** The id of the key new ciphertexts are written with. */
  readonly activeKeyId: string;
  /** Every key id held, the active one included, in the order given. */
  readonly keyIds: readonly string[];
  /** Whether the ring holds key `kid`. */
  has(kid: string): boolean;
}

/** Key ids: short, printable, and without the `:` and `,` that frame them in ciphertexts and JUNCTION_PII_KEYS. */
export const PII_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;

/** Key material by ring, out of reach of anything that walks or serialises the ring object. */
const material = new WeakMap<PiiKeyring, ReadonlyMap<string, KeyObject>>();

/** The AES key `kid` of `ring`, for the cipher; undefined when the ring lacks it. */
export function piiKeyOf(ring: PiiKeyring, kid: string): KeyObject | undefined {
  return material.get(ring)?.get(kid);
}

/** Options of {@link createPiiKeyring}. */
export interface PiiKeyringOptions {
  /** Key id → 32-byte AES-256 key, raw or base64; order is kept. */
  keys: Record<string, string | Uint8Array>;
  /** The key that encrypts; default the last one given. */
  active?: string;
}

function keyProblems(source: string, kid: string, key: string | Uint8Array, problems: string[]): Buffer | undefined {
  const before = problems.length;
  if (!PII_KEY_ID.test(kid)) {
    problems.push(
      `${source}: key id ${JSON.stringify(kid)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  let bytes: Buffer | undefined;
  if (typeof key === 'string') {
    if (!BASE64.test(key)) problems.push(`${source}: key ${kid} is not base64 (generate one with \`./junction pii keygen\`)`);
    else bytes = Buffer.from(key, 'base64');
  } else bytes = Buffer.from(key);
  // Only the length is told: a key is never echoed, not even a wrong one.
  if (bytes && bytes.length !== KEY_BYTES) {
    problems.push(
      `${source}: key ${kid} is ${bytes.length} bytes; AES-256 needs ${KEY_BYTES} (generate one with \`./junction pii keygen\`)`,
    );
  }
  return problems.length === before ? bytes : undefined;
}

function build(keys: Map<string, Buffer>, active: string): PiiKeyring {
  const ids = [...keys.keys()];
  const ring: PiiKeyring = {
    activeKeyId: active,
    keyIds: Object.freeze(ids),
    has: (kid) => keys.has(kid),
  };
  Object.defineProperty(ring, inspect.custom, { value: () => `PiiKeyring { active: ${active}, keys: [${ids.join(', ')}] }` });
  Object.defineProperty(ring, 'toJSON', { value: () => ({ activeKeyId: active, keyIds: ids }) });
  material.set(ring, new Map([...keys].map(([kid, bytes]) => [kid, createSecretKey(bytes)])));
  // The Buffers were copies or decodes of ours: wipe them, the KeyObjects hold the keys now.
  for (const bytes of keys.values()) bytes.fill(0);
  return Object.freeze(ring);
}

function ringOrProblems(source: string, entries: Array<[string, string | Uint8Array]>, active: string | undefined, problems: string[]) {
  const keys = new Map<string, Buffer>();
  const seen = new Set<string>();
  if (!entries.length) problems.push(`${source}: no keys; add one made by \`./junction pii keygen\``);
  for (const [kid, key] of entries) {
    if (seen.has(kid)) {
      problems.push(`${source}: key id ${kid} is given twice`);
      continue;
    }
    seen.add(kid);
    const bytes = keyProblems(source, kid, key, problems);
    if (bytes) keys.set(kid, bytes);
  }
  const chosen = active ?? entries.at(-1)?.[0];
  if (active !== undefined && !entries.some(([kid]) => kid === active)) {
    problems.push(
      `${source}: the active key ${JSON.stringify(active)} is not among the keys (${entries.map(([kid]) => kid).join(', ') || 'none'})`,
    );
  }
  return { keys, chosen };
}

function invalid(problems: string[]): JunctionError {
  return new JunctionError('config.invalid', `PII keys are not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
    context: { problems },
  });
}

/** A keyring from keys in hand; `config.invalid` listing every problem when a key or id is wrong. */
export function createPiiKeyring(options: PiiKeyringOptions): PiiKeyring {
  const problems: string[] = [];
  const { keys, chosen } = ringOrProblems('options', Object.entries(options.keys ?? {}), options.active, problems);
  if (problems.length || !chosen) throw invalid(problems);
  return build(keys, chosen);
}

const envSchema = z.object({
  JUNCTION_PII_KEYS: z.string().trim().min(1, 'is empty; unset it or give kid:base64key[,kid:base64key…]').optional(),
  JUNCTION_PII_ACTIVE_KEY: z.string().trim().min(1, 'is empty; unset it or name one of the keys').optional(),
  JUNCTION_PII_KEYS_FILE: z.string().trim().min(1, 'is empty; unset it or give the path of the key file').optional(),
});

const fileSchema = z.strictObject({
  active: z.string().min(1).optional(),
  keys: z.record(z.string(), z.string()),
});

/** `kid:base64,kid:base64` → entries, with a problem per malformed entry. */
function parseKeyList(text: string, problems: string[]): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  text.split(',').forEach((item, i) => {
    const entry = item.trim();
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      problems.push(`JUNCTION_PII_KEYS: entry ${i + 1} is not kid:base64key (e.g. from \`./junction pii keygen\`)`);
      return;
    }
    entries.push([entry.slice(0, colon), entry.slice(colon + 1)]);
  });
  return entries;
}

/** Reads a key file `{ active, keys: { kid: base64 } }` (JSON or YAML), refusing one others may read. */
function readKeyFile(path: string, problems: string[]): { entries: Array<[string, string]>; active?: string } | undefined {
  const source = `JUNCTION_PII_KEYS_FILE (${path})`;
  let text: string;
  try {
    const mode = statSync(path).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      problems.push(
        `${source}: mode is ${(mode & 0o777).toString(8)}; only its owner may read it: chmod 600 ${path} (Kubernetes: defaultMode 0400)`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${source}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = parseYaml(text);
  } catch {
    // The parser's message may quote the file, which holds keys: say only where to look.
    problems.push(`${source}: neither JSON nor YAML`);
    return undefined;
  }
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    return undefined;
  }
  return { entries: Object.entries(parsed.data.keys), ...(parsed.data.active ? { active: parsed.data.active } : {}) };
}

/**
 * The keyring the environment configures, or undefined when it configures none:
 * `JUNCTION_PII_KEYS` (`kid:base64key,…`, 32-byte keys) with `JUNCTION_PII_ACTIVE_KEY` (default
 * the last listed), or `JUNCTION_PII_KEYS_FILE` (JSON or YAML `{ active, keys: { kid: base64 } }`,
 * mode 0600). Every problem is reported at once in one `config.invalid` error; keys are never quoted.
 */
export function piiKeyringFromEnv(env: NodeJS.ProcessEnv = process.env): PiiKeyring | undefined {
  const parsed = envSchema.safeParse({
    JUNCTION_PII_KEYS: env.JUNCTION_PII_KEYS,
    JUNCTION_PII_ACTIVE_KEY: env.JUNCTION_PII_ACTIVE_KEY,
    JUNCTION_PII_KEYS_FILE: env.JUNCTION_PII_KEYS_FILE,
  });
  // zod's messages quote no values, so none of them can leak a key.
  if (!parsed.success) throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  const { JUNCTION_PII_KEYS: list, JUNCTION_PII_ACTIVE_KEY: activeEnv, JUNCTION_PII_KEYS_FILE: file } = parsed.data;
  if (!list && !file) {
    if (activeEnv) throw invalid(['JUNCTION_PII_ACTIVE_KEY is set but no keys are: set JUNCTION_PII_KEYS or JUNCTION_PII_KEYS_FILE']);
    return undefined;
  }
  const problems: string[] = [];
  if (list && file) problems.push('JUNCTION_PII_KEYS and JUNCTION_PII_KEYS_FILE are both set; set one of them');
  let source: string;
  let entries: Array<[string, string]>;
  let active = activeEnv;
  if (list) {
    source = 'JUNCTION_PII_KEYS';
    entries = parseKeyList(list, problems);
  } else {
    source = `JUNCTION_PII_KEYS_FILE (${file})`;
    const read = readKeyFile(file as string, problems);
    if (!read) throw invalid(problems);
    entries = read.entries;
    // The environment may override the file's choice, e.g. to roll a new key out before the file changes.
    active = activeEnv ?? read.active;
  }
  const { keys, chosen } = ringOrProblems(source, entries, active, problems);
  if (problems.length || !chosen) throw invalid(problems);
  return build(keys, chosen);
}

/** A new random AES-256 key: its id (default `k<yyyymmdd>-<4 hex>`), base64, and the `kid:base64` line for JUNCTION_PII_KEYS. */
export function generatePiiKey(kid?: string): { kid: string; key: string; line: string } {
  const id = kid ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(2).toString('hex')}`;
  if (!PII_KEY_ID.test(id))
    throw invalid([`key id ${JSON.stringify(id)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`]);
  const key = randomBytes(KEY_BYTES).toString('base64');
  return { kid: id, key, line: `${id}:${key}` };
}
