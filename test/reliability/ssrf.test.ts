// SSRF through the OpenID look-up: every way of naming an internal address that we know of,
// given as `matrix_server_name` to the real verifier of @rtc-sidecars/matrix-openid (guard on,
// as livekit-jwt runs it by default) and to livekit-jwt's /get_token through that verifier.
// Numeric and localhost forms go through the system resolver (getaddrinfo, which turns
// `2130706433` or `0x7f.1` into 127.0.0.1); names go through a local DNS server this test runs.
// Every case must leave the internal listener without a single TCP connection, the verifier must
// have refused before dialling (guard refusal, or no address at all), and the client must get the
// reference's 401. Rebinding, redirects and delegation from a public peer need a
// public address and are in ssrf-netns.test.ts.
import { MESSAGES } from '@rtc-sidecars/livekit-jwt';
import {
  createOpenIdVerifier,
  OpenIdError,
  type OpenIdVerifier,
} from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingListener, startCountingListener } from './counting-listener.ts';
import { type DnsServer, resolverFor, startDnsServer } from './dns-server.ts';
import { buildSsrfApp, requestToken } from './ssrf-app.ts';

/** Server names resolved by the system resolver; `{port}` is the listener's port. */
const SYSTEM_NAMES: readonly [string, string][] = [
  ['IPv4 loopback', '127.0.0.1:{port}'],
  ['IPv4 loopback, default port', '127.0.0.1'],
  ['IPv4 short form', '127.1:{port}'],
  ['IPv4 as one decimal number', '2130706433:{port}'],
  ['IPv4 as one hex number', '0x7f000001:{port}'],
  ['IPv4 hex short form', '0x7f.1:{port}'],
  ['IPv4 octal', '0177.0.0.1:{port}'],
  ['IPv4 octal short form', '0177.1:{port}'],
  ['IPv4 as one octal number', '017700000001:{port}'],
  ['IPv4 zero-padded', '127.000.000.001:{port}'],
  ['IPv4 with a trailing dot', '127.0.0.1.:{port}'],
  ['0.0.0.0 (connects to the local host)', '0.0.0.0:{port}'],
  ['0 as a number', '0:{port}'],
  ['localhost', 'localhost:{port}'],
  ['LOCALHOST', 'LOCALHOST:{port}'],
  ['localhost with a trailing dot', 'localhost.:{port}'],
  ['a subdomain of localhost', 'api.localhost:{port}'],
  ['IPv6 loopback', '[::1]:{port}'],
  ['IPv6 loopback in full', '[0:0:0:0:0:0:0:1]:{port}'],
  ['IPv6 unspecified', '[::]:{port}'],
  ['IPv4-mapped IPv6, dotted', '[::ffff:127.0.0.1]:{port}'],
  ['IPv4-mapped IPv6, hex', '[::ffff:7f00:1]:{port}'],
  ['IPv4-mapped IPv6 in full', '[0:0:0:0:0:ffff:127.0.0.1]:{port}'],
  ['IPv4-compatible IPv6 (deprecated)', '[::127.0.0.1]:{port}'],
  ['IPv4-translated IPv6 (RFC 6145)', '[::ffff:0:127.0.0.1]:{port}'],
  ['NAT64 IPv6 (RFC 6052)', '[64:ff9b::127.0.0.1]:{port}'],
  ['6to4 of 127.0.0.1', '[2002:7f00:1::1]:{port}'],
  ['link-local IPv6', '[fe80::1]:{port}'],
  ['link-local IPv6 with a zone id', '[fe80::1%lo]:{port}'],
  ['link-local IPv6 with an encoded zone id', '[fe80::1%25lo]:{port}'],
  ['unique-local IPv6', '[fd00::1]:{port}'],
  ['cloud metadata address', '169.254.169.254:{port}'],
  ['private IPv4', '10.0.0.1:{port}'],
  ['fullwidth localhost (IDNA maps it to localhost)', 'ｌｏｃａｌｈｏｓｔ:{port}'],
  ['ideographic full stops (IDNA maps them to dots)', '127。0。0。1:{port}'],
  ['Cyrillic o in localhost', 'lоcalhost:{port}'],
  ['circled letters', 'ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{port}'],
  ['userinfo in the authority', 'evil.example@127.0.0.1:{port}'],
  ['a fragment after the host', '127.0.0.1:{port}#@evil.example'],
  ['a path after the host', '127.0.0.1:{port}/x'],
  ['a backslash', 'evil.example\\@127.0.0.1:{port}'],
  ['leading whitespace', ' 127.0.0.1:{port}'],
  ['an encoded slash', '127.0.0.1%2f:{port}'],
];

/** Server names answered by the local DNS server (zone below). */
const DNS_NAMES: readonly [string, string][] = [
  ['A record: loopback', 'loopback.test:{port}'],
  ['A record: loopback, name with a trailing dot', 'loopback.test.:{port}'],
  ['A record: loopback, name in upper case', 'LOOPBACK.TEST:{port}'],
  ['AAAA record: ::1', 'loopback6.test:{port}'],
  ['AAAA record: IPv4-mapped loopback', 'mapped.test:{port}'],
  ['AAAA record: NAT64 loopback', 'nat64.test:{port}'],
  ['AAAA record: IPv4-translated loopback', 'translated.test:{port}'],
  ['A record: 0.0.0.0 and AAAA ::', 'unspecified.test:{port}'],
  ['A record: cloud metadata, AAAA link-local', 'linklocal.test:{port}'],
  ['A records: RFC 1918', 'private.test:{port}'],
  ['A record: CGNAT', 'cgnat.test:{port}'],
  ['AAAA record: unique-local', 'ula.test:{port}'],
  ['private and loopback answers mixed', 'mixed.test:{port}'],
  ['IDNA (punycode) name to loopback', 'xn--bcher-kva.test:{port}'],
  ['no port: well-known host on loopback, then 8448 on loopback', 'loopback.test'],
  ['SRV _matrix-fed._tcp target on loopback', 'srv.test'],
  ['SRV _matrix._tcp (deprecated) target on loopback', 'srv-legacy.test'],
  ['SRV target written as an IP literal', 'srv-ip.test'],
  ['SRV target localhost', 'srv-localhost.test'],
  ['SRV target IPv4-mapped through AAAA', 'srv-mapped.test'],
];

let listener: CountingListener;
let dnsServer: DnsServer;
const verifiers: Record<'system' | 'dns', OpenIdVerifier> = {} as never;
const apps: Partial<Record<'system' | 'dns', FastifyInstance>> = {};

beforeAll(async () => {
  listener = await startCountingListener();
  const port = listener.port;
  dnsServer = await startDnsServer({
    'loopback.test': { A: ['127.0.0.1'] },
    'loopback6.test': { AAAA: ['::1'] },
    'mapped.test': { AAAA: ['::ffff:127.0.0.1'] },
    'nat64.test': { AAAA: ['64:ff9b::7f00:1'] },
    'translated.test': { AAAA: ['::ffff:0:7f00:1'] },
    'unspecified.test': { A: ['0.0.0.0'], AAAA: ['::'] },
    'linklocal.test': { A: ['169.254.169.254'], AAAA: ['fe80::1'] },
    'private.test': { A: ['10.0.0.1', '192.168.1.1', '172.16.0.1'] },
    'cgnat.test': { A: ['100.64.0.1'] },
    'ula.test': { AAAA: ['fd00::1'] },
    'mixed.test': { A: ['10.0.0.1', '127.0.0.1'], AAAA: ['::1', 'fe80::1'] },
    'xn--bcher-kva.test': { A: ['127.0.0.1'] },
    '_matrix-fed._tcp.srv.test': { SRV: [{ target: 'loopback.test', port }] },
    '_matrix._tcp.srv-legacy.test': { SRV: [{ target: 'loopback.test', port }] },
    '_matrix-fed._tcp.srv-ip.test': { SRV: [{ target: '127.0.0.1', port }] },
    '_matrix-fed._tcp.srv-localhost.test': { SRV: [{ target: 'localhost', port }] },
    '_matrix-fed._tcp.srv-mapped.test': { SRV: [{ target: 'mapped.test', port }] },
  });
  const common = {
    connectTimeoutMs: 1000,
    totalTimeoutMs: 3000,
    // Names without a port reach the listener too: well-known (443) and federation (8448).
    ports: { wellKnown: port, federation: port },
  };
  verifiers.system = createOpenIdVerifier(common);
  verifiers.dns = createOpenIdVerifier({ ...common, dns: resolverFor(dnsServer.address) });
  for (const mode of ['system', 'dns'] as const) {
    apps[mode] = await buildSsrfApp(verifiers[mode]);
  }
});

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
  await listener.close();
  await dnsServer.close();
});

async function expectRefused(mode: 'system' | 'dns', template: string): Promise<void> {
  const serverName = template.replace('{port}', String(listener.port));
  const error: unknown = await verifiers[mode].verify({ accessToken: 'good', serverName }).then(
    (identity) => identity,
    (e: unknown) => e,
  );
  expect(error, `verify ${serverName}`).toBeInstanceOf(OpenIdError);
  const { kind, message } = error as OpenIdError;
  // Refused by the guard before any socket, or nothing to dial at all. A timeout or a refused
  // connection would mean a socket was opened towards an internal address.
  const guarded =
    kind === 'refused_by_policy' || (kind === 'unreachable' && /ENOTFOUND/.test(message));
  expect(guarded, `${serverName}: ${kind}: ${message}`).toBe(true);

  const app = apps[mode] as FastifyInstance;
  const res = await requestToken(app, serverName);
  expect(
    { status: res.statusCode, body: res.json<unknown>() },
    `/get_token for ${serverName}`,
  ).toEqual({
    status: 401,
    body: { errcode: 'M_UNAUTHORIZED', error: MESSAGES.unauthorised },
  });
  expect(
    listener.connections,
    `connections after ${serverName} (${(error as Error).message})`,
  ).toBe(0);
}

describe('SSRF through matrix_server_name', () => {
  it.each(SYSTEM_NAMES)('should not connect for %s (%s)', async (_label, name) => {
    await expectRefused('system', name);
  });

  it.each(DNS_NAMES)('should not connect for %s (%s)', async (_label, name) => {
    await expectRefused('dns', name);
  });
});
