import { describe, expect, it } from 'vitest';
import { serveWellKnown, userinfoHandler } from './fake-homeserver.ts';
import { failure, fixedDns, homeserver, verifier } from './helpers.ts';

// Every test here points a name at a loopback listener and checks that, with the guard on, the
// listener sees no TCP connection at all: the guard runs before the socket is opened.

const ok = userinfoHandler('@alice:example.org');

describe('SSRF guard', () => {
  it.each([
    ['an IPv4 loopback literal', (port: number) => `127.0.0.1:${port}`],
    ['an IPv6 loopback literal', (port: number) => `[::1]:${port}`],
    ['an IPv4-mapped IPv6 literal', (port: number) => `[::ffff:127.0.0.1]:${port}`],
  ])('should refuse %s', async (_label, serverName) => {
    const hs = await homeserver(ok);
    const error = await failure(
      verifier({}).verify({ accessToken: 'good', serverName: serverName(hs.port) }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(error.message).toMatch(/loopback address/);
    expect(hs.connections).toBe(0);
  });

  it.each([
    ['loopback', ['127.0.0.1']],
    ['IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['private and loopback only', ['10.1.2.3', '127.0.0.1']],
    ['CGNAT, link-local and unique-local', ['100.64.0.1', '169.254.169.254', 'fd00::1']],
  ])('should refuse a DNS name whose answers are %s', async (_label, addresses) => {
    const hs = await homeserver(ok);
    const dns = fixedDns({ 'hs.test': addresses });
    const error = await failure(
      verifier({ dns }).verify({ accessToken: 'good', serverName: `hs.test:${hs.port}` }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(hs.connections).toBe(0);
  });

  it('should refuse well-known delegation to loopback, with no connection to either listener', async () => {
    const target = await homeserver(ok);
    const wellKnown = await homeserver(serveWellKnown(`127.0.0.1:${target.port}`));
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({ dns, ports: { wellKnown: wellKnown.port, federation: target.port } });
    const error = await failure(v.verify({ accessToken: 'good', serverName: 'example.org' }));
    expect(error.kind).toBe('refused_by_policy');
    expect(error.message).toMatch(
      /\[no well-known \(refused_by_policy: .*loopback address\), no SRV, port \d+\]/,
    );
    expect(wellKnown.connections).toBe(0);
    expect(target.connections).toBe(0);
  });

  it('should refuse an SRV target that resolves to loopback', async () => {
    const hs = await homeserver(ok);
    const dns = fixedDns(
      { 'target.example.org': ['127.0.0.1'] },
      { '_matrix-fed._tcp.example.org': [{ name: 'target.example.org', port: hs.port }] },
    );
    const error = await failure(
      verifier({ dns }).verify({ accessToken: 'good', serverName: 'example.org' }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(dns.asked).toContain('target.example.org');
    expect(hs.connections).toBe(0);
  });

  it('should let an override reach a private address for its own name only', async () => {
    const hs = await homeserver(ok);
    const v = verifier({ overrides: new Map([['example.org', hs.url]]) });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    const error = await failure(
      v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(hs.connections).toBe(1);
  });
});
