import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './tools.ts';

const run = promisify(execFile);

/** The names a test certificate is valid for; the first one is also its subject CN. */
export interface CertificateNames {
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

/** A P-256 key made together with the certificate request, unencrypted. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function subjectOf(names: CertificateNames): string {
  return `/CN=${names.dnsNames?.[0] ?? names.ips?.[0] ?? 'localhost'}`;
}

function subjectAltName(names: CertificateNames): string {
  return [
    ...(names.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(names.ips ?? []).map((ip) => `IP:${ip}`),
  ].join(',');
}

/**
 * Makes a self-signed certificate (P-256, one day) for `names` with the openssl CLI, for a
 * loopback server a test either trusts explicitly (`ca: cert`) or uses to show that an untrusted
 * certificate is refused. The files live in a temporary directory removed before returning.
 */
export async function createSelfSignedCertificate(
  names: CertificateNames,
): Promise<{ readonly cert: string; readonly key: string }> {
  const openssl = requireTool('openssl');
  const dir = await mkdtemp(join(tmpdir(), 'test-cert-'));
  try {
    await run(openssl, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      subjectOf(names),
      '-addext',
      `subjectAltName=${subjectAltName(names)}`,
    ]);
    return {
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A throw-away certificate authority and one server certificate it signed. */
export interface TestCertificates {
  /** PEM of the CA, for `NODE_EXTRA_CA_CERTS` or a TLS `ca` option. */
  readonly caPath: string;
  readonly caPem: string;
  /** The server certificate (PEM) and its private key. */
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * Makes a CA and a server certificate for `dnsNames` and `ips` in `dir` with the openssl CLI
 * (node:crypto cannot issue X.509 certificates). Both live two days and exist only for one test
 * run, so a component can be reached over real, verified TLS on loopback.
 */
export async function createTestCertificates(
  dir: string,
  names: CertificateNames,
): Promise<TestCertificates> {
  const openssl = requireTool('openssl');
  const p = (file: string): string => join(dir, file);
  await run(openssl, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=rtc-sidecars test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(openssl, [
    'req',
    ...EC_KEY,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    subjectOf(names),
  ]);
  await writeFile(
    p('server.ext'),
    `subjectAltName=${subjectAltName(names)}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await run(openssl, [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.pem'),
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
  ]);
  return {
    caPath: p('ca.pem'),
    caPem: await readFile(p('ca.pem'), 'utf8'),
    certPath: p('server.pem'),
    keyPath: p('server.key'),
  };
}
