import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeInstalls, findPostgres, listPostgresInstalls, parsePostgresVersion } from './postgres-binaries.ts';

async function script(path: string, body: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

/** A `bin` directory shaped like a server's, whose `postgres --version` prints `version`. */
async function fakeServer(bindir: string, version: string): Promise<void> {
  await mkdir(bindir, { recursive: true });
  await script(join(bindir, 'postgres'), `echo "postgres (PostgreSQL) ${version} (Test)"`);
  await script(join(bindir, 'initdb'), 'exit 1');
  await script(join(bindir, 'pg_ctl'), 'exit 1');
}

describe('parsePostgresVersion', () => {
  it.each([
    ['postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', '15.18', 15],
    ['postgres (PostgreSQL) 17.2', '17.2', 17],
    ['postgres (PostgreSQL) 18beta1', '18', 18],
  ])('reads %s', (text, version, major) => {
    expect(parsePostgresVersion(text)).toEqual({ version, major });
  });

  it('rejects text that is no version', () => {
    expect(parsePostgresVersion('command not found')).toBeUndefined();
  });
});

describe('finding PostgreSQL', () => {
  let root: string;
  let lib: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'junction-postgres-'));
    lib = join(root, 'lib', 'postgresql');
    await fakeServer(join(lib, '13', 'bin'), '13.16');
    await fakeServer(join(lib, '15', 'bin'), '15.18');
    await fakeServer(join(lib, '16', 'bin'), '16.4');
    // A client-only install (Debian's libpq-dev or postgresql-client): no server to run.
    await mkdir(join(lib, '17', 'bin'), { recursive: true });
    await script(join(lib, '17', 'bin', 'psql'), 'exit 0');
  });

  it('lists the servers under each root, highest major first, skipping client-only installs', () => {
    const installs = listPostgresInstalls({ env: { PATH: '' }, roots: [lib] });
    expect(installs.map((i) => i.version)).toEqual(['16.4', '15.18', '13.16']);
    expect(describeInstalls(installs)).toBe(
      `PostgreSQL 16.4 (${join(lib, '16', 'bin')}), PostgreSQL 15.18 (${join(lib, '15', 'bin')}), PostgreSQL 13.16 (${join(lib, '13', 'bin')})`,
    );
  });

  it('puts the server that pg_config names first', async () => {
    const path = join(root, 'path');
    await mkdir(path, { recursive: true });
    await script(join(path, 'pg_config'), `echo "${join(lib, '15', 'bin')}"`);
    const installs = listPostgresInstalls({ env: { PATH: path }, roots: [lib] });
    expect(installs.map((i) => i.major)).toEqual([15, 16, 13]);
  });

  it('takes the first server new enough, or exactly the release a data directory was made by', () => {
    const search = { env: { PATH: '' }, roots: [lib] };
    expect(findPostgres(search, { minMajor: 15 })?.version).toBe('16.4');
    expect(findPostgres(search, { minMajor: 15, dataMajor: 15 })?.version).toBe('15.18');
    expect(findPostgres(search, { minMajor: 15, dataMajor: 14 })).toBeUndefined();
    expect(findPostgres(search, { minMajor: 17 })).toBeUndefined();
  });

  it('finds nothing where there is nothing', () => {
    const installs = listPostgresInstalls({ env: { PATH: '' }, roots: [join(root, 'missing')] });
    expect(installs).toEqual([]);
    expect(describeInstalls(installs)).toBe('no PostgreSQL server at all');
  });
});
