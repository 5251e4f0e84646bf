import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type KeyFile, keyFilePath, keyStates, readKeyFile, retireKeys, rotateKeys } from './keys.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-cli-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR_AGO = new Date(Date.now() - 3_600_000).toISOString();

describe("the CLI's side of the signing-key file", () => {
  it('rotates: appends a key of the same algorithm, with its thumbprint as kid, keeping mode 0600', async () => {
    const path = keyFilePath(dir);
    await writeFile(path, JSON.stringify({ version: 1, retireAfterSeconds: 960, keys: [] }));
    await expect(readKeyFile(path)).rejects.toThrow(/not a version 1 signing-key file/);
    const first = { kid: 'old', alg: 'RS256', createdAt: HOUR_AGO, privateJwk: { kty: 'RSA', d: 'x' } };
    await writeFile(path, JSON.stringify({ version: 1, retireAfterSeconds: 960, keys: [first] }));
    const key = await rotateKeys(path);
    expect(key.alg).toBe('RS256');
    expect(key.kid).toMatch(/^[\w-]{43}$/);
    const file = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
    expect(file.keys.map((k) => k.kid)).toEqual(['old', key.kid]);
    expect(keyStates(file).map((k) => k.state)).toEqual(['published', 'signing']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('retires only keys superseded longer ago than the retire delay', async () => {
    const path = keyFilePath(dir);
    const key = (kid: string, createdAt: string) => ({ kid, alg: 'ES256', createdAt, privateJwk: { kty: 'EC', d: 'x' } });
    const file = {
      version: 1,
      retireAfterSeconds: 960,
      keys: [key('a', HOUR_AGO), key('b', HOUR_AGO), key('c', new Date().toISOString())],
    };
    await writeFile(path, JSON.stringify(file));
    expect(await retireKeys(path)).toEqual(['a']);
    expect((await readKeyFile(path)).keys.map((k) => k.kid)).toEqual(['b', 'c']);
    expect(await retireKeys(path)).toEqual([]);
  });
});
