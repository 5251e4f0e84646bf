import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { JunctionError } from '@junction/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPiiKeyring, generatePiiKey, piiKeyringFromEnv } from './keyring.ts';

const key = (bytes = 32) => randomBytes(bytes).toString('base64');

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JunctionError);
    expect((error as JunctionError).code).toBe('config.invalid');
    return (error as JunctionError).context.problems as string[];
  }
  throw new Error('expected config.invalid');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-pii-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

describe('piiKeyringFromEnv', () => {
  it('is undefined when nothing is configured', () => {
    expect(piiKeyringFromEnv({})).toBeUndefined();
  });

  it('reads JUNCTION_PII_KEYS; the last key is active unless JUNCTION_PII_ACTIVE_KEY names another', () => {
    const keys = `k1:${key()}, k2:${key()}`;
    const ring = piiKeyringFromEnv({ JUNCTION_PII_KEYS: keys }) as NonNullable<ReturnType<typeof piiKeyringFromEnv>>;
    expect(ring.keyIds).toEqual(['k1', 'k2']);
    expect(ring.activeKeyId).toBe('k2');
    expect(ring.has('k1')).toBe(true);
    expect(ring.has('k3')).toBe(false);
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS: keys, JUNCTION_PII_ACTIVE_KEY: 'k1' })?.activeKeyId).toBe('k1');
  });

  it('accepts url-safe base64 and a generated key line', () => {
    const generated = generatePiiKey('rot-2');
    expect(generated.line).toBe(`rot-2:${generated.key}`);
    expect(Buffer.from(generated.key, 'base64')).toHaveLength(32);
    const urlSafe = randomBytes(32).toString('base64url');
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS: `${generated.line},u:${urlSafe}` })?.keyIds).toEqual(['rot-2', 'u']);
    expect(generatePiiKey().kid).toMatch(/^k\d{8}-[0-9a-f]{4}$/);
  });

  it('reports every problem of JUNCTION_PII_KEYS at once, never quoting a key', () => {
    const short = key(16);
    const notBase64 = 'not base64!';
    const found = problems(() =>
      piiKeyringFromEnv({
        JUNCTION_PII_KEYS: `k1:${short},bad id:${key()},k3:${notBase64},nocolon,k1:${key()}`,
        JUNCTION_PII_ACTIVE_KEY: 'k9',
      }),
    );
    expect(found).toEqual([
      'JUNCTION_PII_KEYS: entry 4 is not kid:base64key (e.g. from `./junction pii keygen`)',
      'JUNCTION_PII_KEYS: key k1 is 16 bytes; AES-256 needs 32 (generate one with `./junction pii keygen`)',
      expect.stringMatching(/key id "bad id" must be/),
      'JUNCTION_PII_KEYS: key k3 is not base64 (generate one with `./junction pii keygen`)',
      'JUNCTION_PII_KEYS: key id k1 is given twice',
      expect.stringMatching(/the active key "k9" is not among the keys \(k1, bad id, k3, k1\)/),
    ]);
    expect(found.join('\n')).not.toContain(short);
    expect(found.join('\n')).not.toContain(notBase64);
  });

  it('refuses an active key without keys, both sources at once, and empty values', () => {
    expect(problems(() => piiKeyringFromEnv({ JUNCTION_PII_ACTIVE_KEY: 'k1' }))).toEqual([
      'JUNCTION_PII_ACTIVE_KEY is set but no keys are: set JUNCTION_PII_KEYS or JUNCTION_PII_KEYS_FILE',
    ]);
    expect(problems(() => piiKeyringFromEnv({ JUNCTION_PII_KEYS: ' ', JUNCTION_PII_KEYS_FILE: '' }))).toHaveLength(2);
  });

  it('reads a JSON or YAML key file of mode 0600, whose active key the environment may override', async () => {
    const [a, b] = [key(), key()];
    const json = await keyFile('keys.json', JSON.stringify({ active: 'a', keys: { a, b } }));
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: json })).toMatchObject({ activeKeyId: 'a', keyIds: ['a', 'b'] });
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: json, JUNCTION_PII_ACTIVE_KEY: 'b' })?.activeKeyId).toBe('b');
    const yaml = await keyFile('keys.yaml', `keys:\n  a: ${a}\n  b: ${b}\n`);
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: yaml })?.activeKeyId).toBe('b');
  });

  it('reports every problem of a key file at once: mode, shape, keys', async () => {
    const short = key(31);
    const path = await keyFile('bad.json', JSON.stringify({ active: 'z', keys: { a: short, b: key() } }), 0o644);
    const found = problems(() => piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: path }));
    expect(found).toEqual([
      `JUNCTION_PII_KEYS_FILE (${path}): mode is 644; only its owner may read it: chmod 600 ${path} (Kubernetes: defaultMode 0400)`,
      `JUNCTION_PII_KEYS_FILE (${path}): key a is 31 bytes; AES-256 needs 32 (generate one with \`./junction pii keygen\`)`,
      `JUNCTION_PII_KEYS_FILE (${path}): the active key "z" is not among the keys (a, b)`,
    ]);
    expect(found.join('\n')).not.toContain(short);
    const shape = await keyFile('shape.yaml', `active: 3\nkeys: [1]\nextra: true\n`);
    expect(problems(() => piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: shape }))).toHaveLength(3);
    const missing = join(dir, 'missing.json');
    expect(problems(() => piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: missing }))).toEqual([
      `JUNCTION_PII_KEYS_FILE (${missing}): cannot read it: ENOENT`,
    ]);
    const secret = key();
    const garbled = await keyFile('garbled.json', `{ "keys": { "a": "${secret}" `);
    const said = problems(() => piiKeyringFromEnv({ JUNCTION_PII_KEYS_FILE: garbled }));
    expect(said).toEqual([`JUNCTION_PII_KEYS_FILE (${garbled}): neither JSON nor YAML`]);
  });
});

describe('a keyring', () => {
  it('shows its key ids only, never its keys, when printed or serialised', () => {
    const material = key();
    const ring = createPiiKeyring({ keys: { old: key(), now: material } });
    const shown = `${inspect(ring, { depth: 10, showHidden: true })} ${JSON.stringify(ring)}`;
    expect(shown).toContain('now');
    expect(shown).not.toContain(material);
    expect(shown).not.toContain(Buffer.from(material, 'base64').toString('hex'));
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ activeKeyId: 'now', keyIds: ['old', 'now'] });
  });

  it('createPiiKeyring checks its keys like the environment', () => {
    expect(problems(() => createPiiKeyring({ keys: {} }))).toEqual(['options: no keys; add one made by `./junction pii keygen`']);
    expect(createPiiKeyring({ keys: { raw: randomBytes(32) } }).activeKeyId).toBe('raw');
  });
});
