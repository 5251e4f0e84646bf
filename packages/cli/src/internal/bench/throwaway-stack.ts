import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Catalog, createRegistryAdmin, loadCatalog } from '@junction/events';
import { type Stack, startStack, stopStack } from '@junction/stack';
import { registerSubjects, registerTopics, schemasDir } from '../../commands/schemas.ts';

/** A stack of a bench's own: its state directory, the servers, and schemas/' contracts registered on them. */
export interface ThrowawayStack {
  dir: string;
  stack: Stack;
  /** The registry's URL (a throwaway stack always has one). */
  registryUrl: string;
  /** schemas/' contracts, as registered. */
  catalog: Catalog;
}

/**
 * Runs `work` on a throwaway stack (Kafka, the registry in memory, PostgreSQL and Redis when
 * installed, no Prometheus) in a new directory named after `name`, with schemas/' topics and
 * subjects registered; stops and deletes it afterwards, whatever `work` did.
 */
export async function withThrowawayStack<T>(
  name: string,
  progress: (message: string) => void,
  work: (throwaway: ThrowawayStack) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `junction-bench-${name}-`));
  let stack: Stack | undefined;
  try {
    progress(`starting a throwaway stack in ${dir}`);
    stack = await startStack({ stateDir: dir, ports: 'auto', registry: { storage: 'memory' }, prometheus: false, onProgress: progress });
    const registryUrl = stack.schemaRegistryUrl;
    if (!registryUrl) throw new Error('the throwaway stack has no schema registry');
    const catalog = await loadCatalog(schemasDir());
    const quiet = () => {};
    await registerTopics(catalog, stack.brokers, quiet);
    await registerSubjects(catalog, createRegistryAdmin({ registryUrl, retries: 2 }), quiet);
    return await work({ dir, stack, registryUrl, catalog });
  } finally {
    if (stack) {
      progress('stopping the throwaway stack');
      // Purged: PostgreSQL's data may live outside `dir` (where its user can reach it).
      await stopStack({ stateDir: dir, purge: true, graceMs: 10_000 });
    }
    await rm(dir, { recursive: true, force: true });
  }
}
