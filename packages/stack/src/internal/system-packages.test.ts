import { describe, expect, it } from 'vitest';
import { installCommand, packageProviding, parseSystemPackages, systemPackages } from './system-packages.ts';

describe('system-packages.txt', () => {
  it('lists, for each server the stack runs from the machine, the Debian package that provides it', () => {
    expect(packageProviding('redis-server').name).toBe('redis-server');
    expect(packageProviding('prometheus').name).toBe('prometheus');
    expect(packageProviding('initdb').name).toBe('postgresql');
    expect(packageProviding('mvn').name).toBe('maven');
    expect(packageProviding('java>=17').name).toBe('openjdk-17-jdk-headless');
    for (const pkg of systemPackages()) expect(pkg.why, pkg.name).not.toBe('');
  });

  it('reads alternatives, and refuses a line without what provides it', () => {
    expect(parseSystemPackages('# a comment\n\ncurl   curl|npm   fetches Node.js\n')).toEqual([
      { name: 'curl', provides: ['curl', 'npm'], why: 'fetches Node.js' },
    ]);
    expect(() => parseSystemPackages('lonely\n')).toThrow(/a line needs a package and what provides it: "lonely"/);
  });

  it('says the one install command, through sudo unless root', () => {
    expect(installCommand(['redis-server', 'prometheus'], 0)).toBe('apt-get install -y redis-server prometheus');
    expect(installCommand(['redis-server'], 1000)).toBe('sudo apt-get install -y redis-server');
  });
});
