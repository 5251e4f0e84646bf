import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureKeyFile, keyFilePath, newKey, readKeyFile } from './keys.ts';

const COMMAND = fileURLToPath(new URL('./keys-command.ts', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-auth-keys-command-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the command as `./junction auth` does; killed past 20 s. */
function run(...args: string[]): Promise<{ code: number | null; stdout: string; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=junction-source', '--no-warnings', COMMAND, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, json: JSON.parse(stdout) as Record<string, unknown> });
    });
  });
}

describe('keys-command', () => {
  it('lists, rotates and retires through the key file, printing no private key material', async () => {
    const path = keyFilePath(dir);
    await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960 });

    const listed = await run('list', '--state-dir', dir);
    expect(listed.code).toBe(0);
    const [first] = (await readKeyFile(path))?.keys ?? [];
    expect(listed.json).toEqual({
      file: path,
      keys: [{ kid: first?.kid, alg: 'ES256', createdAt: first?.createdAt, state: 'signing' }],
    });

    const rotated = await run('rotate', '--state-dir', dir, '--alg', 'RS256');
    expect(rotated.code).toBe(0);
    const file = await readKeyFile(path);
    expect(file?.keys.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
    expect(rotated.json.kid).toBe(file?.keys[1]?.kid);
    expect((rotated.json.keys as Array<{ state: string }>).map((k) => k.state)).toEqual(['published', 'signing']);
    for (const key of file?.keys ?? []) expect(rotated.stdout).not.toContain(String(key.privateJwk.d));
    expect(rotated.stdout).not.toContain('privateJwk');

    expect((await run('retire', '--state-dir', dir)).json).toMatchObject({ retired: [] });
  });

  it('shows a rotated key as next, with when it starts signing, until its activation delay passed', async () => {
    const path = keyFilePath(dir);
    await ensureKeyFile(path, { alg: 'ES256', retireAfterSeconds: 960, activationDelaySeconds: 60 });
    const rotated = await run('rotate', '--state-dir', dir);
    expect(rotated.code).toBe(0);
    const [old, fresh] = (await readKeyFile(path))?.keys ?? [];
    expect(rotated.json.kid).toBe(fresh?.kid);
    const activatesAt = new Date(Date.parse(fresh?.createdAt ?? '') + 60_000).toISOString();
    expect(rotated.json.keys).toEqual([
      { kid: old?.kid, alg: 'ES256', createdAt: old?.createdAt, state: 'signing' },
      { kid: fresh?.kid, alg: 'ES256', createdAt: fresh?.createdAt, state: 'next', activatesAt },
    ]);
    expect((await run('list', '--state-dir', dir)).json.keys).toEqual(rotated.json.keys);
    // Nothing is retirable before the new key even signs.
    expect((await run('retire', '--state-dir', dir)).json).toMatchObject({ retired: [] });
  });

  it('retires the keys superseded longer ago than the retire delay', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const keys = [newKey('ES256', hourAgo), newKey('ES256', hourAgo), newKey('ES256')];
    await writeFile(keyFilePath(dir), JSON.stringify({ version: 1, retireAfterSeconds: 960, keys }));
    const retired = await run('retire', '--state-dir', dir);
    expect(retired.code).toBe(0);
    expect(retired.json.retired).toEqual([keys[0]?.kid]);
    expect((retired.json.keys as Array<{ kid: string }>).map((k) => k.kid)).toEqual([keys[1]?.kid, keys[2]?.kid]);
    expect((await readKeyFile(keyFilePath(dir)))?.keys.map((k) => k.kid)).toEqual([keys[1]?.kid, keys[2]?.kid]);
  });

  it('answers an error document with exit code 1: no file yet, an invalid file, bad arguments', async () => {
    const missing = await run('list', '--state-dir', join(dir, 'none'));
    expect(missing.code).toBe(1);
    expect(missing.json).toEqual({ error: { code: 'config.invalid', message: expect.stringContaining('./junction up') } });

    await writeFile(keyFilePath(dir), JSON.stringify({ version: 1, retireAfterSeconds: 960, keys: [] }));
    const invalid = await run('rotate', '--state-dir', dir);
    expect(invalid.code).toBe(1);
    expect(invalid.json).toEqual({ error: { code: 'config.invalid', message: expect.stringContaining('the file holds no key') } });

    const wrong = await run('sign', '--alg', 'HS256');
    expect(wrong.code).toBe(1);
    const { message } = (wrong.json as { error: { message: string } }).error;
    expect(message).toContain('expected one action of list, rotate, retire');
    expect(message).toContain('--state-dir <dir> is required');
    expect(message).toContain('--alg: expected ES256 or RS256');
  });
});
