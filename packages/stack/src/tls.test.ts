import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLocalCa, issueCertificate } from './tls.ts';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'junction-tls-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const cert = async (file: string) => new X509Certificate(await readFile(file, 'utf8'));
const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe('ensureLocalCa and issueCertificate', () => {
  it('issue a server certificate that verifies against the CA and names every host', async () => {
    const dir = await tempDir();
    const ca = await ensureLocalCa(join(dir, 'ca'));
    const issued = await issueCertificate({ ca, dir: join(dir, 'certs'), name: 'kafka', hosts: ['127.0.0.1', 'localhost'] });

    const caCert = await cert(ca.certFile);
    const leaf = await cert(issued.certFile);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(leaf.subjectAltName).toContain('DNS:localhost');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.subject).toContain('CN=kafka');
    expect(issued.notAfter.getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
    expect(await mode(ca.keyFile)).toBe(0o600);
    expect(await mode(issued.keyFile)).toBe(0o600);
    expect(await readFile(issued.keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reuse valid files, and issue again for other hosts or another CA', async () => {
    const dir = await tempDir();
    const ca = await ensureLocalCa(join(dir, 'ca'));
    const caPem = await readFile(ca.certFile, 'utf8');
    expect(await readFile((await ensureLocalCa(join(dir, 'ca'))).certFile, 'utf8')).toBe(caPem);

    const options = { ca, dir: join(dir, 'certs'), name: 'gateway', hosts: ['127.0.0.1'] };
    const first = await readFile((await issueCertificate(options)).certFile, 'utf8');
    expect(await readFile((await issueCertificate(options)).certFile, 'utf8')).toBe(first);

    const wider = await issueCertificate({ ...options, hosts: ['127.0.0.1', 'gateway.local'] });
    expect((await cert(wider.certFile)).subjectAltName).toContain('DNS:gateway.local');

    const otherCa = await ensureLocalCa(join(dir, 'other-ca'));
    const reissued = await issueCertificate({ ...options, ca: otherCa, hosts: ['127.0.0.1', 'gateway.local'] });
    expect((await cert(reissued.certFile)).verify((await cert(otherCa.certFile)).publicKey)).toBe(true);
  });

  it('make the CA again when it is about to expire', async () => {
    const dir = join(await tempDir(), 'ca');
    const first = await readFile((await ensureLocalCa(dir, { validDays: 10 })).certFile, 'utf8');
    const second = await readFile((await ensureLocalCa(dir)).certFile, 'utf8');
    expect(second).not.toBe(first);
  });

  it('refuse a bad name or no hosts before running anything', async () => {
    const dir = await tempDir();
    const ca = await ensureLocalCa(join(dir, 'ca'));
    await expect(issueCertificate({ ca, dir, name: '../evil', hosts: ['localhost'] })).rejects.toThrow(/certificate name/);
    await expect(issueCertificate({ ca, dir, name: 'x', hosts: [] })).rejects.toThrow(/host names/);
  });
});
