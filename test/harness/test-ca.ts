import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './tools.ts';

const run = promisify(execFile);

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
  names: { readonly dnsNames: readonly string[]; readonly ips: readonly string[] },
): Promise<TestCertificates> {
  const openssl = requireTool('openssl');
  const p = (file: string): string => join(dir, file);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, [
    'req',
    '-x509',
    ...ec,
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
  const subject = names.dnsNames[0] ?? names.ips[0] ?? 'localhost';
  await run(openssl, [
    'req',
    ...ec,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    `/CN=${subject}`,
  ]);
  const altNames = [
    ...names.dnsNames.map((n) => `DNS:${n}`),
    ...names.ips.map((ip) => `IP:${ip}`),
  ].join(',');
  await writeFile(
    p('server.ext'),
    `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
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
