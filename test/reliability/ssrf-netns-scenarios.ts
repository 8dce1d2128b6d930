// Run by ssrf-netns.test.ts inside a fresh network namespace (`unshare -rn`) whose loopback
// interface also carries PUBLIC_IP, a public address: a "public" homeserver the guard lets the
// verifier reach, so redirects, delegation and DNS rebinding can start outside and point inside.
// Prints one JSON line per case to stdout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createOpenIdVerifier, OpenIdError } from '@rtc-sidecars/matrix-openid';
import { createSelfSignedCertificate } from '../harness/index.ts';
import { startCountingListener } from './counting-listener.ts';
import { resolverFor, startDnsServer } from './dns-server.ts';
import { buildSsrfApp, requestToken } from './ssrf-app.ts';

/** Public unicast (11.0.0.0/8), given to the namespace's loopback by the test. */
export const PUBLIC_IP = '11.1.1.1';

/** One scenario's outcome. */
export interface ScenarioResult {
  readonly name: string;
  readonly kind: string;
  readonly message: string;
  readonly status: number;
  readonly body: unknown;
  /** Connections the internal listener accepted during the case. */
  readonly internal: number;
  /** Requests the public homeserver answered during the case, as `host path`. */
  readonly public: readonly string[];
}

const NAMES = [
  'redirect.test',
  'redirect-name.test',
  'redirect-mapped.test',
  'redirect-chain.test',
  'delegate-ip.test',
  'delegate-name.test',
  'delegate-srv.test',
  'delegate-numeric.test',
  'delegate-localhost.test',
  'rebind.test',
  'rebind-port.test',
  'loopback.test',
];

const internal = await startCountingListener();
const inside = internal.port;
const tls = await createSelfSignedCertificate({ dnsNames: NAMES, ips: [PUBLIC_IP] });
const seen: string[] = [];
let wellKnownPort = 0;
const publicPeer = createServer(tls, (req: IncomingMessage, res: ServerResponse) => {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  seen.push(`${host} ${req.url ?? ''}`);
  const json = (body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const redirect = (location: string): void => {
    res.writeHead(302, { location }).end();
  };
  if (req.url !== '/.well-known/matrix/server') {
    res.writeHead(404).end();
    return;
  }
  switch (host) {
    case 'redirect.test':
      redirect(`https://127.0.0.1:${inside}/.well-known/matrix/server`);
      break;
    case 'redirect-name.test':
      redirect(`https://loopback.test:${inside}/.well-known/matrix/server`);
      break;
    case 'redirect-mapped.test':
      redirect(`https://[::ffff:127.0.0.1]:${inside}/.well-known/matrix/server`);
      break;
    case 'redirect-chain.test':
      redirect(`https://redirect.test:${wellKnownPort}/.well-known/matrix/server`);
      break;
    case 'delegate-ip.test':
      json({ 'm.server': `127.0.0.1:${inside}` });
      break;
    case 'delegate-name.test':
      json({ 'm.server': `loopback.test:${inside}` });
      break;
    case 'delegate-srv.test':
      json({ 'm.server': 'inner.test' });
      break;
    case 'delegate-numeric.test':
      json({ 'm.server': `2130706433:${inside}` });
      break;
    case 'delegate-localhost.test':
      json({ 'm.server': `localhost:${inside}` });
      break;
    default:
      res.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => publicPeer.listen(0, PUBLIC_IP, resolve));
wellKnownPort = (publicPeer.address() as AddressInfo).port;

const publicA = { A: [PUBLIC_IP] };
const dns = await startDnsServer({
  ...Object.fromEntries(
    NAMES.filter((n) => n.startsWith('redirect') || n.startsWith('delegate')).map((n) => [
      n,
      publicA,
    ]),
  ),
  'loopback.test': { A: ['127.0.0.1'] },
  localhost: { A: ['127.0.0.1'], AAAA: ['::1'] },
  '_matrix-fed._tcp.inner.test': { SRV: [{ target: 'loopback.test', port: inside }] },
  // Public on the first query (the well-known fetch), loopback on every later one (the connect).
  'rebind.test': { A: (n) => (n === 1 ? [PUBLIC_IP] : ['127.0.0.1']) },
  'rebind-port.test': { A: (n) => (n === 1 ? [PUBLIC_IP] : ['127.0.0.1']) },
});

const verifier = createOpenIdVerifier({
  dns: resolverFor(dns.address),
  ca: tls.cert,
  connectTimeoutMs: 1000,
  totalTimeoutMs: 4000,
  ports: { wellKnown: wellKnownPort, federation: inside },
});
const app = await buildSsrfApp(verifier);

const cases: [string, string][] = [
  ['redirect to 127.0.0.1', 'redirect.test'],
  ['redirect to a name resolving to loopback', 'redirect-name.test'],
  ['redirect to IPv4-mapped loopback', 'redirect-mapped.test'],
  ['redirect to a public host that redirects inside', 'redirect-chain.test'],
  ['delegation to 127.0.0.1', 'delegate-ip.test'],
  ['delegation to a name resolving to loopback', 'delegate-name.test'],
  ['delegation to a name whose SRV target is loopback', 'delegate-srv.test'],
  ['delegation to 2130706433', 'delegate-numeric.test'],
  ['delegation to localhost', 'delegate-localhost.test'],
  ['DNS rebinding: public for the well-known, loopback for the connect', 'rebind.test'],
  ['DNS rebinding with an explicit port, first verification', `rebind-port.test:${inside}`],
  ['DNS rebinding with an explicit port, second verification', `rebind-port.test:${inside}`],
];

for (const [name, serverName] of cases) {
  const before = { internal: internal.connections, seen: seen.length };
  const error: unknown = await verifier.verify({ accessToken: 'good', serverName }).then(
    () => new Error('verified'),
    (e: unknown) => e,
  );
  const res = await requestToken(app, serverName);
  const result: ScenarioResult = {
    name,
    kind: error instanceof OpenIdError ? error.kind : 'not an OpenIdError',
    message: error instanceof Error ? error.message : String(error),
    status: res.statusCode,
    body: res.json<unknown>(),
    internal: internal.connections - before.internal,
    public: seen.slice(before.seen),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await app.close();
await dns.close();
await internal.close();
publicPeer.closeAllConnections();
await new Promise((resolve) => publicPeer.close(resolve));
