import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeKeys, ensureKeyFile, keyFilePath, nextActivation, readKeyFile, retireKeyFile, rotateKeyFile, signingKey } from './keys.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-auth-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the signing-key file', () => {
  it('is created once with one key, mode 0600', async () => {
    const path = keyFilePath(dir);
    const first = await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960 });
    const again = await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960 });
    expect(again).toEqual(first);
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]?.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('adds a key when the configured algorithm changes', async () => {
    const path = keyFilePath(dir);
    await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960 });
    const file = await ensureKeyFile(path, { alg: 'RS256', retireAfterSeconds: 960 });
    expect(file.keys.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
    expect(file.keys[1]?.privateJwk).toMatchObject({ kty: 'RSA' });
  });

  it('rotates: the new key signs, the old stays published until the retire delay passed', async () => {
    const path = keyFilePath(dir);
    const t0 = new Date('2030-01-01T00:00:00Z');
    await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960, now: t0 });
    const rotated = await rotateKeyFile(path, { now: new Date(t0.getTime() + 1000) });
    const [old, current] = rotated.keys;
    expect(describeKeys(rotated, new Date(t0.getTime() + 2000)).map((k) => k.state)).toEqual(['published', 'signing']);
    expect(await retireKeyFile(path, new Date(t0.getTime() + 960_000))).toEqual([]);
    expect(await retireKeyFile(path, new Date(t0.getTime() + 962_000))).toEqual([old?.kid]);
    expect((await readKeyFile(path))?.keys.map((k) => k.kid)).toEqual([current?.kid]);
  });

  it('publishes a rotated key at once but signs with it only after the activation delay', async () => {
    const path = keyFilePath(dir);
    const t0 = new Date('2030-01-01T00:00:00Z');
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
    // The first key of a new file signs at once, whatever the delay.
    const created = await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960, activationDelaySeconds: 60, now: t0 });
    expect(describeKeys(created, t0).map((k) => k.state)).toEqual(['signing']);
    expect((await readKeyFile(path))?.activationDelaySeconds).toBe(60);

    const rotated = await rotateKeyFile(path, { now: at(10) });
    const [old, fresh] = rotated.keys;
    expect(describeKeys(rotated, at(11))).toMatchObject([
      { kid: old?.kid, state: 'signing' },
      { kid: fresh?.kid, state: 'next', activatesAt: at(70).toISOString() },
    ]);
    expect(signingKey(rotated, at(69.9)).kid).toBe(old?.kid);
    expect(nextActivation(rotated, at(11))).toEqual(at(70));
    expect(signingKey(rotated, at(70)).kid).toBe(fresh?.kid);
    expect(nextActivation(rotated, at(70))).toBeUndefined();
    expect(describeKeys(rotated, at(71))).toMatchObject([{ state: 'published', supersededAt: at(70).toISOString() }, { state: 'signing' }]);

    // Retirement counts from the activation, when the old key stopped signing, not from the rotation.
    expect(await retireKeyFile(path, at(10 + 961))).toEqual([]);
    expect(await retireKeyFile(path, at(70 + 961))).toEqual([old?.kid]);
  });

  it('keeps a pending key pending across a restart, and reads a file without the delay as 0', async () => {
    const path = keyFilePath(dir);
    const t0 = new Date('2030-01-01T00:00:00Z');
    await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960, now: t0 });
    expect((await readKeyFile(path))?.activationDelaySeconds).toBeUndefined();
    const immediate = await rotateKeyFile(path, { now: new Date(t0.getTime() + 1000) });
    expect(describeKeys(immediate, new Date(t0.getTime() + 1000)).map((k) => k.state)).toEqual(['published', 'signing']);

    // A restart with a new algorithm adds one key, pending; a second restart within the delay adds none.
    const options = { alg: 'RS256' as const, retireAfterSeconds: 960, activationDelaySeconds: 60 };
    const changed = await ensureKeyFile(path, { ...options, now: new Date(t0.getTime() + 100_000) });
    const again = await ensureKeyFile(path, { ...options, now: new Date(t0.getTime() + 101_000) });
    expect(again.keys.map((k) => k.alg)).toEqual(['ES256', 'ES256', 'RS256']);
    expect(describeKeys(changed, new Date(t0.getTime() + 101_000)).map((k) => k.state)).toEqual(['published', 'signing', 'next']);
  });

  it('says which field of a damaged file is wrong', async () => {
    const path = keyFilePath(dir);
    await writeFile(
      path,
      JSON.stringify({ version: 1, retireAfterSeconds: 960, keys: [{ kid: 'k', alg: 'HS256', createdAt: 'x', privateJwk: {} }] }),
    );
    await expect(readKeyFile(path)).rejects.toThrow(/keys\.0\.alg.*keys\.0\.createdAt|keys\.0\.createdAt.*keys\.0\.alg/);
  });
});
