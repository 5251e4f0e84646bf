import { join } from 'node:path';
import { StackError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import { APICURIO_VERSION, KAFKA_VERSION } from '../versions.ts';
import { newClusterId } from './kafka.ts';
import { freePorts } from './ports.ts';
import type { KafkaNodeRecord, RegistryRecord, StackRecord } from './state.ts';

/** Lays out a new stack: ports, directories and markers of each component, and a cluster id. */
export async function planRecord(options: ResolvedOptions): Promise<StackRecord> {
  const count = options.brokers ?? 1;
  let kafkaPorts: number[];
  let registryPorts: [number, number];
  if (options.ports === 'auto') {
    const free = await freePorts(2 * count + 2);
    kafkaPorts = free.slice(0, 2 * count);
    registryPorts = [free[2 * count] ?? 0, free[2 * count + 1] ?? 0];
  } else {
    const base = options.ports.kafka ?? 9092;
    kafkaPorts = Array.from({ length: 2 * count }, (_, i) => base + i);
    const registry = options.ports.registry ?? 8081;
    registryPorts = [registry, registry + 1];
  }
  const kafka: KafkaNodeRecord[] = Array.from({ length: count }, (_, i) => {
    const name = `kafka-${i + 1}`;
    const dir = join(options.stateDir, name);
    return {
      kind: 'kafka',
      name,
      nodeId: i + 1,
      port: kafkaPorts[2 * i] ?? 0,
      controllerPort: kafkaPorts[2 * i + 1] ?? 0,
      dir,
      logFile: join(dir, 'kafka.log'),
      marker: `-Djunction.component=${dir}`,
      version: KAFKA_VERSION,
    };
  });
  const registryDir = join(options.stateDir, 'registry');
  const registry: RegistryRecord | null =
    options.registry === false
      ? null
      : {
          kind: 'registry',
          name: 'registry',
          port: registryPorts[0],
          managementPort: registryPorts[1],
          storage: options.registry?.storage ?? 'kafkasql',
          compatibility: options.registry?.compatibility ?? 'FULL_TRANSITIVE',
          dir: registryDir,
          logFile: join(registryDir, 'registry.log'),
          marker: `-Djunction.component=${registryDir}`,
          version: APICURIO_VERSION,
        };
  return { format: 1, clusterId: newClusterId(), createdAt: new Date().toISOString(), kafka, registry };
}

/** The layout of a state directory is fixed when it is created; asking for another is an error. */
export function checkLayout(record: StackRecord, options: ResolvedOptions): void {
  const conflicts: string[] = [];
  if (options.brokers !== undefined && options.brokers !== record.kafka.length) {
    conflicts.push(`it holds ${record.kafka.length} broker(s), ${options.brokers} were asked for`);
  }
  if (options.ports !== 'auto' && options.ports.kafka !== undefined && options.ports.kafka !== record.kafka[0]?.port) {
    conflicts.push(`its Kafka listens on ${record.kafka[0]?.port}, ${options.ports.kafka} was asked for`);
  }
  if (options.ports !== 'auto' && options.ports.registry !== undefined && options.ports.registry !== record.registry?.port) {
    conflicts.push(`its registry listens on ${record.registry?.port ?? 'nothing'}, ${options.ports.registry} was asked for`);
  }
  if (options.registry && record.registry === null) conflicts.push('it was created without a registry');
  const storage = options.registry ? options.registry.storage : undefined;
  if (storage && record.registry && storage !== record.registry.storage) {
    conflicts.push(`its registry stores in ${record.registry.storage}, ${storage} was asked for`);
  }
  if (conflicts.length > 0) {
    throw new StackError(
      'state-conflict',
      `the stack in ${record.kafka[0]?.dir ? join(record.kafka[0].dir, '..') : 'its state directory'} differs: ${conflicts.join('; ')}`,
      {
        hint: 'run `./junction stack down --purge` to start afresh, or choose another --state-dir',
      },
    );
  }
}
