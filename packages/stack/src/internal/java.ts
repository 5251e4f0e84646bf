import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** A Java runtime found on this machine. */
export interface JavaRuntime {
  /** The runtime's home directory (holds `bin/java`). */
  home: string;
  /** Absolute path of the `java` executable. */
  bin: string;
  /** Feature release: 17 for "17.0.15", 8 for "1.8.0_402". */
  major: number;
  /** The full version string. */
  version: string;
}

/** Where to look for Java; tests narrow it to prove the errors. */
export interface JavaSearch {
  env: NodeJS.ProcessEnv;
  /** Directories whose subdirectories are Java homes (e.g. /usr/lib/jvm). */
  roots: string[];
}

/** The usual places package managers put JDKs on Linux and macOS. */
export const DEFAULT_JAVA_ROOTS = ['/usr/lib/jvm', '/usr/java', '/opt/java', '/Library/Java/JavaVirtualMachines'];

/** Parses the major version out of a Java version string ("17.0.15", "1.8.0_402", "25"). */
export function parseJavaMajor(version: string): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

function versionFromReleaseFile(home: string): string | undefined {
  try {
    return /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(join(home, 'release'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function versionFromBinary(bin: string): string | undefined {
  const run = spawnSync(bin, ['-version'], { encoding: 'utf8', timeout: 15_000 });
  return /version "([^"]+)"/.exec(`${run.stderr ?? ''}${run.stdout ?? ''}`)?.[1];
}

/** Inspects one Java home; undefined when it holds no runnable java. */
export function inspectJavaHome(home: string): JavaRuntime | undefined {
  const macHome = join(home, 'Contents', 'Home');
  const root = existsSync(join(macHome, 'bin', 'java')) ? macHome : home;
  const bin = join(root, 'bin', 'java');
  if (!existsSync(bin)) return undefined;
  const version = versionFromReleaseFile(root) ?? versionFromBinary(bin);
  const major = version === undefined ? undefined : parseJavaMajor(version);
  return version === undefined || major === undefined ? undefined : { home: root, bin, major, version };
}

function javaOnPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const bin = join(dir, 'java');
    if (!existsSync(bin)) continue;
    try {
      return dirname(dirname(realpathSync(bin)));
    } catch {
      // a dangling link: keep looking
    }
  }
  return undefined;
}

/**
 * Every Java runtime this machine offers, in order of preference: `JUNCTION_JAVA_HOME`,
 * `JAVA_HOME`, the `java` on PATH, then the JDKs installed under the usual roots.
 */
export function listJavaRuntimes(search: JavaSearch): JavaRuntime[] {
  const homes: string[] = [];
  for (const home of [search.env.JUNCTION_JAVA_HOME, search.env.JAVA_HOME, javaOnPath(search.env)]) {
    if (home) homes.push(home);
  }
  for (const root of search.roots) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root).sort().reverse();
    } catch {
      continue;
    }
    for (const entry of entries) homes.push(join(root, entry));
  }
  const seen = new Set<string>();
  const runtimes: JavaRuntime[] = [];
  for (const home of homes) {
    const runtime = inspectJavaHome(home);
    if (!runtime) continue;
    const key = realpathSync(runtime.bin);
    if (seen.has(key)) continue;
    seen.add(key);
    runtimes.push(runtime);
  }
  return runtimes;
}

/** The first runtime of at least `minMajor`, in the order of {@link listJavaRuntimes}. */
export function findJava(search: JavaSearch, minMajor: number): JavaRuntime | undefined {
  return listJavaRuntimes(search).find((runtime) => runtime.major >= minMajor);
}

/** "Java 17 (/usr/lib/jvm/java-17-openjdk-amd64)" for each runtime, for error messages. */
export function describeRuntimes(runtimes: JavaRuntime[]): string {
  return runtimes.length === 0 ? 'no Java at all' : runtimes.map((r) => `Java ${r.major} (${r.home})`).join(', ');
}
