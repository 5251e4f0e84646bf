import { createRegistryAdmin, loadCatalog } from '@junction/events';
import { stackStatus, startStack } from '@junction/stack';
import { Command } from 'commander';
import { runDemo } from '../internal/demo.ts';
import { style } from '../internal/output.ts';
import { registerSubjects, registerTopics, schemasDir } from './schemas.ts';
import { printEndpoints, printStatus, type StackUpFlags, stackOptions, withStackFlags } from './stack.ts';

/** `junction up`: the main job — the stack, a demo event through it, then stay up until Ctrl-C. */
export function upCommand(): Command {
  return withStackFlags(
    new Command('up').description(
      'start Junction locally: Kafka, the schema registry, PostgreSQL, Redis and Prometheus, then publish a demo Avro event and consume it back; stays up until Ctrl-C',
    ),
  ).action(async (flags: StackUpFlags) => {
    const stack = await startStack(stackOptions(flags));
    console.log(stack.alreadyRunning ? 'The stack was already running.' : `Started ${stack.started.join(', ')}.`);
    await printStatus(stack.stateDir);

    if (stack.schemaRegistryUrl) {
      const demo = await runDemo(stack.brokers, stack.schemaRegistryUrl);
      console.log(`\n${style('bold', 'Published an Avro event and consumed it back:')}`);
      console.log(`  topic       ${demo.topic} (partition ${demo.partition}, offset ${demo.offset})`);
      console.log(`  key         ${demo.key}`);
      console.log(`  schema      id ${demo.schemaId}, subject ${demo.subject}`);
      console.log(`  ce_type     ${demo.headers.ce_type}`);
      console.log(`  ce_id       ${demo.headers.ce_id}`);
      console.log(`  value       ${JSON.stringify(demo.value)}`);

      // The contracts of schemas/ are live at once: services and curl can publish order events.
      console.log(`\n${style('bold', 'Event contracts of schemas/ (as ./junction schemas register does):')}`);
      const catalog = await loadCatalog(schemasDir());
      const topicsOk = await registerTopics(catalog, stack.brokers);
      console.log('');
      const subjectsOk = await registerSubjects(catalog, createRegistryAdmin({ registryUrl: stack.schemaRegistryUrl, retries: 2 }));
      if (!topicsOk || !subjectsOk)
        console.log(
          style('yellow', 'Some contracts differ from what the stack holds (see above); ./junction schemas check --registry tells more.'),
        );
    }

    printEndpoints(stack);
    const owned =
      stack.started.length ===
      stack.nodes.length +
        (stack.registryUrl ? 1 : 0) +
        (stack.postgresUrl ? 1 : 0) +
        (stack.redisUrl ? 1 : 0) +
        (stack.prometheusUrl ? 1 : 0);
    const onExit = owned
      ? 'Ctrl-C stops the stack.'
      : stack.alreadyRunning
        ? 'Ctrl-C leaves the stack running (it was started before; ./junction stack down stops it).'
        : `Ctrl-C stops what this command started (${stack.started.join(', ')}) and leaves the rest running.`;
    console.log(`\n${style('green', 'Junction is up.')} ${onExit}`);
    await watchUntilSignal(stack.stateDir);
    if (stack.started.length > 0) {
      process.stderr.write(`\nstopping ${stack.started.join(', ')}…\n`);
      await stack.stopStarted();
      console.log('Stopped.');
    }
  });
}

const WATCH_INTERVAL_MS = 10_000;

/**
 * Waits for Ctrl-C (or SIGTERM), checking the stack meanwhile: a component that dies or stops
 * answering is reported once, and again when it recovers.
 */
async function watchUntilSignal(stateDir: string): Promise<void> {
  const reported = new Set<string>();
  const stop = Promise.withResolvers<void>();
  process.once('SIGINT', () => stop.resolve());
  process.once('SIGTERM', () => stop.resolve());
  const watch = setInterval(async () => {
    const status = await stackStatus({ stateDir }).catch(() => undefined);
    for (const c of status?.components ?? []) {
      const healthy = c.state === 'running' && c.healthy === true;
      if (!healthy && !reported.has(c.name)) {
        reported.add(c.name);
        console.log(
          style(
            'red',
            `${new Date().toISOString()} ${c.name} is ${c.state === 'running' ? `not answering: ${c.detail}` : c.state}; see ./junction stack logs ${c.name}`,
          ),
        );
      } else if (healthy && reported.delete(c.name)) {
        console.log(style('green', `${new Date().toISOString()} ${c.name} answers again`));
      }
    }
  }, WATCH_INTERVAL_MS);
  await stop.promise;
  clearInterval(watch);
}
