import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { installCommand, packageProviding } from './internal/system-packages.ts';
import { lastLines, runTool, which } from './internal/tools.ts';

/** A certificate authority on disk: PEM files of its certificate and private key (mode 0600). */
export interface LocalCa {
  certFile: string;
  keyFile: string;
}

/** A certificate issued by a {@link LocalCa}: PEM files of the certificate and its private key (mode 0600). */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  /** The CA certificate that signed it, for clients to trust. */
  caFile: string;
  /** DNS names and IP addresses in its subjectAltName. */
  hosts: string[];
  notAfter: Date;
}

/** Options of {@link ensureLocalCa} and {@link issueCertificate}. */
export interface TlsFileOptions {
  /** How long a new certificate is valid. Default 825 days for a leaf, 3650 for the CA. */
  validDays?: number;
  /** A certificate that expires sooner than this is made again. Default 30 days. */
  renewBeforeDays?: number;
  /** Environment used to find `openssl`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link issueCertificate}. */
export interface IssueOptions extends TlsFileOptions {
  ca: LocalCa;
  /** Directory of the files, `<name>.pem` and `<name>.key`. */
  dir: string;
  /** The subject's common name and the files' base name, e.g. `kafka` or `gateway`. */
  name: string;
  /** DNS names and IP addresses clients use, e.g. `['127.0.0.1', 'localhost']`. */
  hosts: string[];
}

/** Every openssl call is short; one that hangs is killed. */
const OPENSSL_TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;

async function openssl(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const bin = which('openssl', env) ?? (env === process.env ? undefined : which('openssl', process.env));
  if (!bin) {
    throw new StackError('openssl-missing', 'making TLS certificates needs the openssl command, and none is on PATH', {
      hint: `install it (${installCommand([packageProviding('openssl').name])})`,
    });
  }
  const result = await runTool(bin, args, { cwd, env, timeoutMs: OPENSSL_TIMEOUT_MS });
  if (result.code !== 0) {
    const tail = lastLines(`${result.stdout}\n${result.stderr}`, 10);
    throw new StackError(
      'certificate-failed',
      `openssl ${args[0]} failed${result.timedOut ? ` (no answer within ${OPENSSL_TIMEOUT_MS} ms)` : ''}: ${tail.at(-1) ?? `exit ${result.code}`}`,
      { hint: `delete ${cwd} to make the certificates afresh`, logTail: tail },
    );
  }
}

/** A new EC P-256 key in PKCS#8 PEM (what Kafka's PEM keystore reads), written readable by its owner only. */
async function writeNewKey(file: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await rm(file, { force: true });
  await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  await chmod(file, 0o600);
}

/** The certificate in `certFile` when it is whole, matches `keyFile` and stays valid past the renewal margin. */
async function usable(certFile: string, keyFile: string, renewBeforeDays: number): Promise<X509Certificate | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (new Date(cert.validTo).getTime() - Date.now() < renewBeforeDays * DAY_MS) return undefined;
    if (new Date(cert.validFrom).getTime() > Date.now()) return undefined;
    return cert;
  } catch {
    return undefined;
  }
}

/** `IP:127.0.0.1`, `DNS:localhost`: how openssl names each host in subjectAltName. */
function altNames(hosts: string[]): string {
  return hosts.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
}

/** The hosts in a certificate's subjectAltName, as Node prints them (`DNS:localhost, IP Address:127.0.0.1`). */
function sanHosts(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .map((entry) => entry.replace(/^DNS:/, '').replace(/^IP Address:/, ''))
    .filter((entry) => entry !== '');
}

/**
 * A local certificate authority in `dir` (`ca.pem`, `ca.key`): the existing one while it is
 * whole and valid for `renewBeforeDays` more, else a new one. A new CA invalidates every
 * certificate it issued before; {@link issueCertificate} notices and issues them again.
 */
export async function ensureLocalCa(dir: string, options: TlsFileOptions = {}): Promise<LocalCa> {
  const env = options.env ?? process.env;
  const ca: LocalCa = { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca.key') };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await usable(ca.certFile, ca.keyFile, options.renewBeforeDays ?? 30)) return ca;
  await writeNewKey(ca.keyFile);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      ca.keyFile,
      '-sha256',
      '-days',
      String(options.validDays ?? 3650),
      // Unique per CA: browsers and Java refuse two CAs of one name with different keys.
      '-subj',
      `/O=Junction/CN=Junction local CA ${randomBytes(4).toString('hex')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      ca.certFile,
    ],
    env,
    dir,
  );
  return ca;
}

/**
 * A certificate for `hosts` signed by `ca`, in `<dir>/<name>.pem` with its key in
 * `<dir>/<name>.key`: the existing one while it matches its key, was signed by this CA, names
 * every host and stays valid for `renewBeforeDays` more, else a new one. Good for TLS servers
 * and clients (serverAuth and clientAuth).
 */
export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const { ca, dir, name, hosts } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new StackError(
      'invalid-options',
      `a certificate name is letters, digits, dots, dashes and underscores; got ${JSON.stringify(name)}`,
    );
  }
  if (hosts.length === 0 || hosts.some((host) => !/^[A-Za-z0-9.:*-]+$/.test(host))) {
    throw new StackError('invalid-options', `a certificate needs host names or IP addresses; got ${JSON.stringify(hosts)}`);
  }
  const env = options.env ?? process.env;
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCert = new X509Certificate(await readFile(ca.certFile, 'utf8'));
  const existing = await usable(certFile, keyFile, options.renewBeforeDays ?? 30);
  if (existing?.verify(caCert.publicKey) && hosts.every((host) => sanHosts(existing).includes(host))) {
    return { certFile, keyFile, caFile: ca.certFile, hosts, notAfter: new Date(existing.validTo) };
  }
  await writeNewKey(keyFile);
  const csr = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.ext`);
  await writeFile(
    extensions,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${altNames(hosts)}`,
      '',
    ].join('\n'),
  );
  try {
    await openssl(['req', '-new', '-key', keyFile, '-subj', `/O=Junction/CN=${name}`, '-out', csr], env, dir);
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.certFile,
        '-CAkey',
        ca.keyFile,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-sha256',
        '-days',
        String(options.validDays ?? 825),
        '-extfile',
        extensions,
        '-out',
        certFile,
      ],
      env,
      dir,
    );
  } finally {
    await Promise.all([rm(csr, { force: true }), rm(extensions, { force: true })]);
  }
  const issued = new X509Certificate(await readFile(certFile, 'utf8'));
  return { certFile, keyFile, caFile: ca.certFile, hosts, notAfter: new Date(issued.validTo) };
}
