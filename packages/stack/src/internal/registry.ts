import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import type { Compatibility } from '../options.ts';
import type { JavaRuntime } from './java.ts';
import { HOST } from './ports.ts';
import { launch } from './processes.ts';
import type { RegistryRecord } from './state.ts';

/** Base URL of the registry's own API and UI. */
export function registryUrl(record: RegistryRecord): string {
  return `http://${HOST}:${record.port}`;
}

/** The Confluent-compatible API that clients use (Junction's codec, Confluent's serializers). */
export function ccompatUrl(record: RegistryRecord): string {
  return `${registryUrl(record)}/apis/ccompat/v7`;
}

function storageArgs(record: RegistryRecord, bootstrap: string): string[] {
  switch (record.storage) {
    case 'kafkasql':
      return ['-Dapicurio.storage.kind=kafkasql', `-Dapicurio.kafkasql.bootstrap.servers=${bootstrap}`];
    case 'memory':
      return ['-Dapicurio.storage.kind=sql', '-Dapicurio.storage.sql.kind=h2', '-Dapicurio.datasource.url=jdbc:h2:mem:registry'];
  }
}

/** Starts Apicurio Registry detached; `bootstrap` is the Kafka it stores into (kafkasql). */
export async function startRegistry(java: JavaRuntime, home: string, record: RegistryRecord, bootstrap: string): Promise<ChildProcess> {
  await mkdir(record.dir, { recursive: true });
  return launch({
    command: java.bin,
    args: [
      record.marker,
      '-Xms64m',
      '-Xmx512m',
      // A registry serves little traffic; C1 alone and a serial collector start it faster on
      // two cores and leave the CPU to Kafka.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.http.port=${record.port}`,
      // The management interface cannot be turned off (it is fixed at build time); keep it private.
      `-Dquarkus.management.host=${HOST}`,
      `-Dquarkus.management.port=${record.managementPort}`,
      '-Dquarkus.log.category."org.apache.kafka".level=WARN',
      '-Dapicurio.rest.deletion.group.enabled=true',
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      ...storageArgs(record, bootstrap),
      '-jar',
      join(home, 'quarkus-run.jar'),
    ],
    logFile: record.logFile,
    cwd: record.dir,
  });
}

/** What the registry said when asked who it is. */
export interface RegistryProbe {
  ok: boolean;
  ms: number;
  version?: string;
  error?: string;
}

/** Asks the registry for its system info, once, within `timeoutMs`. */
export async function probeRegistry(record: RegistryRecord, timeoutMs: number): Promise<RegistryProbe> {
  const started = Date.now();
  try {
    const response = await fetch(`${registryUrl(record)}/apis/registry/v3/system/info`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { ok: false, ms: Date.now() - started, error: `HTTP ${response.status}` };
    const info = (await response.json()) as { version?: string };
    return { ok: true, ms: Date.now() - started, ...(info.version ? { version: info.version } : {}) };
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error: (error as Error).message };
  }
}

/** Sets the registry-wide compatibility through the ccompat API and reads it back. */
export async function setGlobalCompatibility(record: RegistryRecord, level: Compatibility): Promise<void> {
  const url = `${ccompatUrl(record)}/config`;
  const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
  const put = await fetch(url, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ compatibility: level }),
    signal: AbortSignal.timeout(10_000),
  });
  const check = (await fetch(url, { signal: AbortSignal.timeout(10_000) }).then((r) => r.json())) as { compatibilityLevel?: string };
  if (!put.ok || check.compatibilityLevel !== level) {
    throw new StackError(
      'component-not-ready',
      `the registry did not take global compatibility ${level} (HTTP ${put.status}, now ${check.compatibilityLevel ?? 'unknown'})`,
      {
        hint: `look at ${record.logFile}`,
      },
    );
  }
}
