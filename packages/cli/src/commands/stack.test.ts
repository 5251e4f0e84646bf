import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '@junction/events';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../internal/paths.ts';
import { runCli } from '../testing/cli.ts';
import { kafkaServiceUsers, type StackUpFlags, stackOptions } from './stack.ts';

const flags: StackUpFlags = { registry: true, postgres: true, redis: true, prometheus: false, stateDir: '/tmp/junction-unit' };

describe('junction stack up --secure', () => {
  const schemas = join(repositoryRoot(), 'schemas');

  it('asks for a secure stack with a SCRAM user per service of topics.yaml, and the gateway', async () => {
    const users = kafkaServiceUsers(await loadCatalog(schemas));
    expect(users).toEqual(['billing', 'gateway', 'inventory', 'notifications', 'orders']);
    expect(await stackOptions({ ...flags, secure: true })).toMatchObject({ secure: true, kafkaUsers: users });
    // Without the flag, the stack keeps what its state directory was made as.
    const plain = await stackOptions(flags);
    expect(plain.secure).toBeUndefined();
    expect(plain.kafkaUsers).toBeUndefined();
  });

  it('reads its users through the checked catalog, as the ACLs are: a topics.yaml the catalog refuses makes no users', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-users-'));
    try {
      await cp(schemas, dir, { recursive: true });
      const topics = join(dir, 'topics.yaml');
      // A list written as a word: read unchecked, it became the users o, r, d, e and s.
      await writeFile(topics, (await readFile(topics, 'utf8')).replace('writers: [gateway]', 'writers: orders'));
      await expect(stackOptions({ ...flags, secure: true }, dir)).rejects.toThrow(/writers/);
      // A plaintext stack needs no users, so it does not read them.
      await expect(stackOptions(flags, dir)).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('junction stack acls', () => {
  it('prints the ACLs of topics.yaml as a table: principal, resource, pattern, operation', async () => {
    const result = await runCli(['stack', 'acls'], 60_000);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PRINCIPAL\s+RESOURCE\s+PATTERN\s+OPERATION$/);
    const rows = lines.slice(1).map((line) =>
      line
        .trim()
        .split(/\s{2,}/)
        .join(' | '),
    );
    expect(rows).toContain('User:gateway | topic orders.order | LITERAL | WRITE');
    expect(rows).toContain('User:inventory | topic orders.order | LITERAL | READ');
    expect(rows).toContain('User:inventory | group inventory | LITERAL | READ');
    expect(rows).toContain('User:inventory | topic inventory. | PREFIXED | CREATE');
    expect(rows.filter((row) => row.includes('topic orders.order | LITERAL | WRITE'))).toEqual([
      'User:gateway | topic orders.order | LITERAL | WRITE',
      'User:orders | topic orders.order | LITERAL | WRITE',
    ]);
  });

  it('says in --help what each service may do', async () => {
    const result = await runCli(['stack', 'acls', '--help'], 60_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--apply');
    expect(result.stdout).toContain('WRITE and DESCRIBE the topics it owns, or is listed under writers of');
    expect(result.stdout).toContain('prefixed <service>.');
  });
});
