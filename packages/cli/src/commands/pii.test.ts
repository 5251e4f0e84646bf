import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { piiKeyringFromEnv } from '@junction/events';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cliPiiKeyring, ensureLocalPiiKeysFile, localPiiEnv, localPiiKeysPath } from '../internal/pii.ts';
import { piiCommand } from './pii.ts';

const ENV = ['JUNCTION_PII_KEYS', 'JUNCTION_PII_KEYS_FILE', 'JUNCTION_PII_ACTIVE_KEY'] as const;
const saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));

/** Runs `junction pii <args>` in this process; returns what it printed on stdout and stderr. */
async function run(args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    out.push(String(line));
  });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    err.push(String(chunk));
    return true;
  });
  try {
    await piiCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
  return { out: out.join('\n'), err: err.join('') };
}

const temps: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'junction-pii-cli-'));
  temps.push(dir);
  return dir;
};

beforeEach(() => {
  for (const name of ENV) delete process.env[name];
});
afterEach(() => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('junction pii keygen', () => {
  it('prints one key line usable as JUNCTION_PII_KEYS, and the advice on stderr', async () => {
    const { out, err } = await run(['keygen', '--kid', 'k2']);
    expect(out).toMatch(/^k2:[A-Za-z0-9+/]{43}=$/);
    expect(piiKeyringFromEnv({ JUNCTION_PII_KEYS: out })?.keyIds).toEqual(['k2']);
    expect(err).toContain('JUNCTION_PII_KEYS');
    expect((await run(['keygen'])).out).toMatch(/^k\d{8}-[0-9a-f]{4}:/);
    await expect(run(['keygen', '--kid', 'no:colons'])).rejects.toMatchObject({ code: 'config.invalid' });
  });
});

describe('junction pii keys', () => {
  it('shows the key ids and the active one, never a key', async () => {
    const [a, b] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    process.env.JUNCTION_PII_KEYS = `old:${a},new:${b}`;
    const { out } = await run(['keys', '--state-dir', await tempDir()]);
    expect(out).toContain('PII keys from JUNCTION_PII_KEYS:');
    expect(out).toMatch(/old\s+decrypts only/);
    expect(out).toMatch(/new\s+active: encrypts and decrypts/);
    expect(out).not.toContain(a);
    expect(out).not.toContain(b);
  });

  it('falls back to the local stack key file, and says how to get keys when there are none', async () => {
    const dir = await tempDir();
    expect((await run(['keys', '--state-dir', dir])).out).toMatch(/No PII keys are configured[\s\S]*pii keygen/);
    await ensureLocalPiiKeysFile(dir);
    const { out } = await run(['keys', '--state-dir', dir]);
    expect(out).toContain(localPiiKeysPath(dir));
    expect(out).toMatch(/local-1\s+active/);
  });

  it('has help that explains the environment and rotation', async () => {
    const shown: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      shown.push(String(chunk));
      return true;
    });
    try {
      for (const args of [['--help'], ['keygen', '--help'], ['keys', '--help']]) {
        const command = piiCommand().exitOverride();
        for (const sub of command.commands) sub.exitOverride();
        await expect(command.parseAsync(args, { from: 'user' })).rejects.toMatchObject({
          code: 'commander.helpDisplayed',
        });
      }
    } finally {
      write.mockRestore();
    }
    const help = shown.join('');
    for (const text of [
      'JUNCTION_PII_KEYS ',
      'JUNCTION_PII_ACTIVE_KEY',
      'JUNCTION_PII_KEYS_FILE',
      'Rotation:',
      '--kid <id>',
      '--state-dir <dir>',
    ])
      expect(help).toContain(text);
  });
});

describe('the local key file', () => {
  it('is made once, mode 0600, and handed to started processes only when the environment has no keys', async () => {
    const dir = await tempDir();
    const env = await localPiiEnv(dir, {});
    expect(env).toEqual({ JUNCTION_PII_KEYS_FILE: localPiiKeysPath(dir) });
    expect((await stat(localPiiKeysPath(dir))).mode & 0o777).toBe(0o600);
    const first = await readFile(localPiiKeysPath(dir), 'utf8');
    await ensureLocalPiiKeysFile(dir);
    expect(await readFile(localPiiKeysPath(dir), 'utf8')).toBe(first);
    expect((await cliPiiKeyring(dir, {})).activeKeyId).toBe('local-1');
    expect(await localPiiEnv(dir, { JUNCTION_PII_KEYS: 'x:y' })).toEqual({});
  });
});
