import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts, HOST, isPortFree } from './ports.ts';

describe('ports', () => {
  it('sees a port taken by a listening server, and free again once it closes', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    expect(await isPortFree(address.port)).toBe(false);
    await new Promise((resolve) => server.close(resolve));
    expect(await isPortFree(address.port)).toBe(true);
  });

  it('hands out distinct free ports', async () => {
    const ports = await freePorts(6);
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
  });
});
