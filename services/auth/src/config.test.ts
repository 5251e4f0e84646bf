import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JunctionError } from '@junction/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthConfig } from './config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'junction-auth-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` as a config file and loads it, returning the error it throws. */
async function failure(text: string): Promise<JunctionError> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  const error = await loadAuthConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JunctionError);
  const junction = error as JunctionError;
  expect(junction.code).toBe('config.invalid');
  expect(junction.message).toContain(file);
  return junction;
}

describe('loadAuthConfig', () => {
  it('reads the default configuration: demo may publish order events, shop may place and read orders, warehouse may read and restock stock, ops may read events, downstream may manage its webhook subscriptions', async () => {
    const config = await loadAuthConfig(new URL('../clients.yaml', import.meta.url).pathname);
    expect(config).toMatchObject({
      audience: 'urn:junction:gateway',
      tokenTtlSeconds: 900,
      keyActivationDelaySeconds: 60,
      algorithm: 'ES256',
    });
    expect(config.clients.map((c) => [c.id, c.scopes, c.secret])).toEqual([
      ['demo', ['events:orders.order:write'], { generated: true }],
      ['shop', ['orders:write', 'orders:read'], { generated: true }],
      ['warehouse', ['inventory:read', 'inventory:write'], { generated: true }],
      ['ops', ['events:orders.order:read'], { generated: true }],
      ['downstream', ['notifications:read', 'notifications:write'], { generated: true }],
      ['crm', ['notifications:read', 'notifications:write', 'notifications:pii'], { generated: true }],
    ]);
  });

  it('reports every problem at once, each with its field path', async () => {
    const error = await failure(
      [
        'audience: urn:junction:gateway',
        'tokenTtl: 15 minutes',
        'keyActivationDelay: -1',
        'algorithm: HS256',
        'clients:',
        '  - id: demo',
        '    scopes: [events:orders.order:publish]',
        '  - id: Bad Id',
        '    scopes: [events:orders.order:read]',
        '    secret: { env: lower-case }',
        '  - id: demo',
        '    scopes: []',
      ].join('\n'),
    );
    const problems = error.context.problems as string[];
    expect(problems.some((p) => p.startsWith('tokenTtl:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('keyActivationDelay:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('algorithm:'))).toBe(true);
    expect(problems).toContain('clients.0.scopes.0: an events scope reads events:<topic>:write or events:<topic>:read');
    expect(problems.some((p) => p.startsWith('clients.1.id:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('clients.1.secret'))).toBe(true);
    expect(problems).toContain('clients.2.scopes: a client needs at least one scope');
    expect(problems).toContain('clients.2.id: client "demo" is configured twice');
  });

  it('refuses unknown fields, so a typo does not pass silently', async () => {
    const error = await failure('clients:\n  - id: demo\n    scope: [events:orders.order:write]\n');
    expect(error.message).toMatch(/clients\.0/);
    expect(error.message).toMatch(/scope/);
  });

  it('names the file when the YAML itself is broken', async () => {
    const error = await failure('clients: [\n');
    expect(error.message).toContain('YAML');
  });

  it('reads durations and anchors secret files at the config file', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(
      file,
      'tokenTtl: 1h\nkeyActivationDelay: 300ms\nalgorithm: RS256\nclients:\n  - id: a\n    scopes: [custom]\n    secret: { file: secrets/a }\n',
    );
    const config = await loadAuthConfig(file);
    expect(config.tokenTtlSeconds).toBe(3600);
    expect(config.keyActivationDelaySeconds).toBe(0.3);
    expect(config.clients[0]?.secret).toEqual({ file: join(dir, 'secrets/a') });
  });
});
