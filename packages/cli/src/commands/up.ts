import { createRegistryAdmin, loadCatalog } from '@junction/events';
import { stackStatus, startStack } from '@junction/stack';
import { Command } from 'commander';
import { portNumber } from '../internal/args.ts';
import { runDemo } from '../internal/demo.ts';
import { DEFAULT_FLOW_PORTS, startFlow } from '../internal/flow.ts';
import { style } from '../internal/output.ts';
import type { ServiceProcess } from '../internal/services.ts';
import { registerSubjects, registerTopics, schemasDir } from './schemas.ts';
import { applyStackAcls, printEndpoints, printMissing, printStatus, type StackUpFlags, stackOptions, withStackFlags } from './stack.ts';
import { DEFAULT_GATEWAY_URL } from './webhooks.ts';

/** Flags of `up` beyond the stack's. */
interface UpFlags extends StackUpFlags {
  services: boolean;
  gatewayPort: number;
  authPort: number;
  ordersPort: number;
  inventoryPort: number;
  billingPort: number;
  notificationsPort: number;
  providerPort: number;
  https?: boolean;
}

/** The minute-long tour: a storefront's token, an order through the gateway, and the order again once the saga moved it. */
function printTryIt(gateway: ServiceProcess, authUrl: string, stateDirFlag: string | undefined, caFile?: string): void {
  const tokenFlags = [
    ...(authUrl === 'http://127.0.0.1:8090' ? [] : [`--auth-url ${authUrl}`]),
    ...(stateDirFlag ? [`--state-dir ${stateDirFlag}`] : []),
  ];
  const cacert = caFile ? ` --cacert ${caFile}` : '';
  const trust = caFile ? `NODE_EXTRA_CA_CERTS=${caFile} ` : '';
  console.log(`\n${style('bold', 'Place an order (in another terminal):')}`);
  console.log(`  TOKEN=$(${trust}./junction token --client shop${tokenFlags.length ? ` ${tokenFlags.join(' ')}` : ''})`);
  console.log(`  ORDER=$(curl -s${cacert} -X POST ${gateway.url}/v1/orders \\`);
  console.log('    -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\');
  console.log(`    -H "Idempotency-Key: $(uuidgen || date +%s%N)" --data @schemas/examples/place-order.json)`);
  console.log('  echo "$ORDER"    # status placed; inventory reserves, billing charges the stand-in, then:');
  console.log(
    `  curl -s${cacert} ${gateway.url}/v1/orders/$(echo "$ORDER" | sed 's/.*"orderId":"\\([^"]*\\)".*/\\1/') -H "Authorization: Bearer $TOKEN"`,
  );
  console.log('  # status confirmed, with the history of the events applied');
  console.log(`  The API's description: ${gateway.url}/v1/openapi.json`);
  const listenFlags = [...tokenFlags, ...(gateway.url === DEFAULT_GATEWAY_URL ? [] : [`--gateway ${gateway.url}`])];
  console.log(`\n${style('bold', "Receive the flow's events as signed webhooks, as a downstream team would:")}`);
  console.log(
    `  ${trust}./junction webhooks listen --events 'com.junction.orders.*,com.junction.billing.*'${listenFlags.map((f) => ` ${f}`).join('')}`,
  );
}

/** `junction up`: the main job — the stack, a demo event through it, then stay up until Ctrl-C. */
export function upCommand(): Command {
  return withStackFlags(
    new Command('up').description(
      'start Junction locally: Kafka, the schema registry, PostgreSQL, Redis and Prometheus, a demo Avro event through them, then the OAuth 2.0 auth server (8090), the payment provider stand-in (8190), the orders, inventory and billing services (8101-8103), the notifications service (webhooks, 8104) and the API gateway (8080); stays up until Ctrl-C',
    ),
  )
    .option('--no-services', 'start only the stack: no auth server, gateway, business services or payment stand-in')
    .option('--gateway-port <port>', 'port of the API gateway', portNumber, DEFAULT_FLOW_PORTS.gateway)
    .option('--auth-port <port>', 'port of the OAuth 2.0 authorization server', portNumber, DEFAULT_FLOW_PORTS.auth)
    .option('--orders-port <port>', 'port of the orders service', portNumber, DEFAULT_FLOW_PORTS.orders)
    .option('--inventory-port <port>', 'port of the inventory service', portNumber, DEFAULT_FLOW_PORTS.inventory)
    .option('--billing-port <port>', 'port of the billing service', portNumber, DEFAULT_FLOW_PORTS.billing)
    .option('--notifications-port <port>', 'port of the notifications (webhooks) service', portNumber, DEFAULT_FLOW_PORTS.notifications)
    .option('--provider-port <port>', 'port of the payment provider stand-in', portNumber, DEFAULT_FLOW_PORTS.provider)
    .option('--https', "serve the gateway over HTTPS with a certificate of the stack's local CA")
    .action(async (flags: UpFlags) => {
      const stack = await startStack(await stackOptions(flags));
      console.log(stack.alreadyRunning ? 'The stack was already running.' : `Started ${stack.started.join(', ')}.`);
      await printStatus(stack.stateDir, stack.missing);

      // As the admin of a secure stack: the demo topic and the contracts' topics are made here.
      const kafka = stack.security?.connection('admin') ?? { brokers: stack.brokers };
      if (stack.schemaRegistryUrl) {
        const demo = await runDemo(kafka, stack.schemaRegistryUrl);
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
        const topicsOk = await registerTopics(catalog, kafka);
        console.log('');
        const subjectsOk = await registerSubjects(catalog, createRegistryAdmin({ registryUrl: stack.schemaRegistryUrl, retries: 2 }));
        if (!topicsOk || !subjectsOk)
          console.log(
            style('yellow', 'Some contracts differ from what the stack holds (see above); ./junction schemas check --registry tells more.'),
          );
      }

      if (stack.security) await applyStackAcls(stack);

      let services: ServiceProcess[] = [];
      let caFile: string | undefined;
      if (flags.services && stack.schemaRegistryUrl) {
        console.log(`\n${style('bold', 'Starting the auth server and the gateway…')}`);
        try {
          ({ services, caFile } = await startFlow(stack, {
            ports: {
              gateway: flags.gatewayPort,
              auth: flags.authPort,
              orders: flags.ordersPort,
              inventory: flags.inventoryPort,
              billing: flags.billingPort,
              notifications: flags.notificationsPort,
              provider: flags.providerPort,
            },
            ...(flags.https ? { https: true } : {}),
          }));
        } catch (error) {
          if (stack.started.length > 0) await stack.stopStarted();
          throw error;
        }
      }

      printEndpoints(stack);
      const [auth, gateway] = services;
      if (auth && gateway) {
        console.log(`  Auth (OAuth 2.0)  ${style('bold', auth.url)} (logs: ${auth.logFile})`);
        console.log(`  API gateway       ${style('bold', gateway.url)} (logs: ${gateway.logFile})`);
        for (const service of services.slice(2)) {
          const label =
            service.name === 'payment-provider-standin' ? 'Payment STAND-IN' : service.name[0]?.toUpperCase() + service.name.slice(1);
          console.log(`  ${label.padEnd(17)} ${style('bold', service.url)} (logs: ${service.logFile})`);
        }
        printTryIt(gateway, auth.url, flags.stateDir, caFile);
      }
      printMissing(stack);
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
      await watchUntilSignal(stack.stateDir, services, new Set(stack.missing.map((m) => m.name)));
      for (const service of [...services].reverse()) {
        process.stderr.write(`stopping ${service.name}…\n`);
        await service.stop();
      }
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
async function watchUntilSignal(stateDir: string, services: readonly ServiceProcess[], leftOut: ReadonlySet<string>): Promise<void> {
  const reported = new Set<string>();
  const stop = Promise.withResolvers<void>();
  process.once('SIGINT', () => stop.resolve());
  process.once('SIGTERM', () => stop.resolve());
  const watch = setInterval(async () => {
    for (const service of services) {
      if (!service.alive() && !reported.has(service.name)) {
        reported.add(service.name);
        console.log(style('red', `${new Date().toISOString()} ${service.name} exited; see ${service.logFile}`));
      }
    }
    const status = await stackStatus({ stateDir }).catch(() => undefined);
    for (const c of (status?.components ?? []).filter((component) => !leftOut.has(component.name))) {
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
