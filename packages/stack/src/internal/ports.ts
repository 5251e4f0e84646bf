import { createServer } from 'node:net';
import { StackError } from '../errors.ts';
import type { ComponentRecord } from './state.ts';

/** The one interface every local component binds: nothing of the stack listens beyond loopback. */
export const HOST = '127.0.0.1';

/** True when nothing listens on `port` of the loopback interface. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Asks the kernel for `count` distinct free ports on loopback. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host: HOST, exclusive: true }, () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port was assigned');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

const PORT_RELEASE_MS = 5000;

/**
 * True when `port` is free, or frees up within a few seconds: a component killed a moment ago
 * may still be closing its sockets after its command line is gone.
 */
async function portFreesUp(port: number): Promise<boolean> {
  const deadline = Date.now() + PORT_RELEASE_MS;
  for (;;) {
    if (await isPortFree(port)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The CLI flag that moves each kind of component. */
const PORT_FLAG: Record<ComponentRecord['kind'], string> = {
  kafka: '--kafka-port / --registry-port',
  registry: '--kafka-port / --registry-port',
  postgres: '--postgres-port',
  redis: '--redis-port',
  prometheus: '--prometheus-port',
};

/** Fails, naming the flag that moves it, when a port a component wants is held by another process. */
export async function assertPortsFree(wanted: ComponentRecord[]): Promise<void> {
  for (const component of wanted) {
    const ports =
      component.kind === 'kafka'
        ? [component.port, component.controllerPort]
        : component.kind === 'registry'
          ? [component.port, component.managementPort]
          : [component.port];
    for (const port of ports) {
      // A component with a pid on record died just now, maybe; give its sockets time to close.
      const free = component.pid === undefined ? await isPortFree(port) : await portFreesUp(port);
      if (!free) {
        throw new StackError('port-in-use', `port ${port}, wanted by ${component.name}, is in use by another process`, {
          hint: `stop that process (see \`ss -ltnp 'sport = :${port}'\`), or choose other ports with ${PORT_FLAG[component.kind]}`,
        });
      }
    }
  }
}
