import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findJava, listJavaRuntimes, parseJavaMajor } from './java.ts';

/** A directory shaped like a JDK home, with the version in its `release` file. */
async function fakeHome(root: string, name: string, version: string): Promise<string> {
  const home = join(root, name);
  await mkdir(join(home, 'bin'), { recursive: true });
  await writeFile(join(home, 'bin', 'java'), '#!/bin/sh\nexit 1\n');
  await chmod(join(home, 'bin', 'java'), 0o755);
  await writeFile(join(home, 'release'), `IMPLEMENTOR="Test"\nJAVA_VERSION="${version}"\n`);
  return home;
}

describe('parseJavaMajor', () => {
  it.each([
    ['17.0.15', 17],
    ['21', 21],
    ['25.0.3', 25],
    ['1.8.0_402', 8],
    ['11.0.2+9', 11],
  ])('reads %s as %i', (text, major) => {
    expect(parseJavaMajor(text)).toBe(major);
  });

  it('rejects text that is no version', () => {
    expect(parseJavaMajor('openjdk')).toBeUndefined();
  });
});

describe('finding Java', () => {
  let root: string;
  let jvms: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'junction-java-'));
    jvms = join(root, 'jvm');
    await fakeHome(jvms, 'java-11', '11.0.2');
    await fakeHome(jvms, 'java-17', '17.0.15');
    await fakeHome(jvms, 'temurin-25', '25.0.3');
  });

  it('lists JAVA_HOME first, then the installed JDKs', async () => {
    const explicit = await fakeHome(root, 'explicit', '21.0.1');
    const runtimes = listJavaRuntimes({ env: { JAVA_HOME: explicit, PATH: '' }, roots: [jvms] });
    expect(runtimes.map((r) => r.major)).toEqual([21, 25, 17, 11]);
  });

  it('takes the first runtime that is new enough', () => {
    const search = { env: { PATH: '' }, roots: [jvms] };
    expect(findJava(search, 17)?.major).toBe(25);
    expect(findJava({ env: { JAVA_HOME: join(jvms, 'java-17'), PATH: '' }, roots: [jvms] }, 17)?.home).toBe(join(jvms, 'java-17'));
    expect(findJava({ env: { JAVA_HOME: join(jvms, 'java-17'), PATH: '' }, roots: [jvms] }, 21)?.major).toBe(25);
  });

  it('finds nothing when no runtime is new enough', () => {
    expect(findJava({ env: { PATH: '' }, roots: [jvms] }, 26)).toBeUndefined();
    expect(findJava({ env: { PATH: '' }, roots: [join(root, 'missing')] }, 8)).toBeUndefined();
  });
});
