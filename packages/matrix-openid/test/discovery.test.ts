import { type CertificateNames, createSelfSignedCertificate } from '@rtc-sidecars/test-harness';
import { describe, expect, it } from 'vitest';
import { type FakeHomeserver, serveWellKnown, userinfoHandler } from './fake-homeserver.ts';
import { failure, fixedDns, homeserver, verifier } from './helpers.ts';

// Discovery end to end over TLS: fake DNS answers point names at one loopback HTTPS server that
// serves both the well-known document and userinfo. The guard is lifted with allowPrivate (it is
// tested in ssrf-guard.test.ts); certificates are trusted through the `ca` option, so these tests
// also show which name each certificate is checked against.

const NAMES: CertificateNames = { dnsNames: ['example.org', 'matrix.example.org'] };
const NAMES_AND_LOOPBACK: CertificateNames = { ...NAMES, ips: ['127.0.0.1'] };

async function tlsHomeserver(names: CertificateNames, delegateTo?: (hs: FakeHomeserver) => string) {
  const tls = await createSelfSignedCertificate(names);
  const hs = await homeserver((req, res) => {
    const userinfo = userinfoHandler('@alice:example.org');
    if (delegateTo === undefined) userinfo(req, res);
    else serveWellKnown(delegateTo(hs), userinfo)(req, res);
  }, tls);
  return { hs, ca: tls.cert };
}

describe('server discovery', () => {
  it('should follow well-known delegation to an IP and port when the guard is lifted', async () => {
    const { hs, ca } = await tlsHomeserver(NAMES_AND_LOOPBACK, (h) => `127.0.0.1:${h.port}`);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({ allowPrivate: true, dns, ca, ports: { wellKnown: hs.port } });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(hs.requests.map((r) => [r.path, r.host])).toEqual([
      ['/.well-known/matrix/server', `example.org:${hs.port}`],
      ['/_matrix/federation/v1/openid/userinfo', `127.0.0.1:${hs.port}`],
    ]);
  });

  it('should use SRV of the delegated name and verify TLS against the delegated name', async () => {
    const { hs, ca } = await tlsHomeserver(NAMES, () => 'matrix.example.org');
    const dns = fixedDns(
      { 'example.org': ['127.0.0.1'], 'srv-target.example.net': ['127.0.0.1'] },
      {
        '_matrix-fed._tcp.matrix.example.org': [{ name: 'srv-target.example.net', port: hs.port }],
      },
    );
    const v = verifier({ allowPrivate: true, dns, ca, ports: { wellKnown: hs.port } });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    // The Host header (and so the TLS name) is the delegated name, not the SRV target.
    expect(hs.requests[1]).toMatchObject({
      path: '/_matrix/federation/v1/openid/userinfo',
      host: 'matrix.example.org',
    });
  });

  it('should refuse a certificate that only names the SRV target', async () => {
    const { hs, ca } = await tlsHomeserver(
      { dnsNames: ['example.org', 'srv-target.example.net'] },
      () => 'matrix.example.org',
    );
    const dns = fixedDns(
      { 'example.org': ['127.0.0.1'], 'srv-target.example.net': ['127.0.0.1'] },
      {
        '_matrix-fed._tcp.matrix.example.org': [{ name: 'srv-target.example.net', port: hs.port }],
      },
    );
    const v = verifier({ allowPrivate: true, dns, ca, ports: { wellKnown: hs.port } });
    const error = await failure(v.verify({ accessToken: 'good', serverName: 'example.org' }));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    // The message says how the destination was found, for the operator reading the logs.
    expect(error.message).toContain(
      `at srv-target.example.net:${hs.port} [well-known → matrix.example.org, SRV _matrix-fed._tcp.matrix.example.org]`,
    );
    expect(hs.requests.map((r) => r.path)).toEqual(['/.well-known/matrix/server']);
  });

  it('should fall back to the deprecated _matrix._tcp SRV record', async () => {
    const { hs, ca } = await tlsHomeserver(NAMES);
    const dns = fixedDns(
      { 'example.org': ['127.0.0.1'], 'old.example.net': ['127.0.0.1'] },
      { '_matrix._tcp.example.org': [{ name: 'old.example.net', port: hs.port }] },
    );
    const v = verifier({ allowPrivate: true, dns, ca, ports: { wellKnown: hs.port } });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(dns.asked).toEqual([
      'example.org',
      'SRV _matrix-fed._tcp.example.org',
      'SRV _matrix._tcp.example.org',
      'old.example.net',
    ]);
    expect(hs.requests.at(-1)?.host).toBe('example.org');
  });

  it('should treat an oversized well-known as absent and fall back to the federation port', async () => {
    const tls = await createSelfSignedCertificate(NAMES);
    const hs = await homeserver((req, res) => {
      if (req.url === '/.well-known/matrix/server') {
        res
          .writeHead(200)
          .end(JSON.stringify({ 'm.server': 'elsewhere.example.net', pad: 'x'.repeat(100_000) }));
      } else userinfoHandler('@alice:example.org')(req, res);
    }, tls);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({
      allowPrivate: true,
      dns,
      ca: tls.cert,
      ports: { wellKnown: hs.port, federation: hs.port },
    });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(dns.asked).not.toContain('elsewhere.example.net');
    expect(hs.requests.at(-1)).toMatchObject({
      path: '/_matrix/federation/v1/openid/userinfo',
      host: 'example.org',
    });
  });

  it('should pick up a well-known that appears after a failure, without a restart', async () => {
    // Upstream caches "no delegation" for an hour: users kept getting 401 after fixing it.
    const tls = await createSelfSignedCertificate(NAMES_AND_LOOPBACK);
    let published = false;
    const hs = await homeserver((req, res) => {
      if (req.url === '/.well-known/matrix/server' && published) {
        serveWellKnown(`127.0.0.1:${hs.port}`)(req, res);
      } else userinfoHandler('@alice:example.org')(req, res);
    }, tls);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({
      allowPrivate: true,
      dns,
      ca: tls.cert,
      wellKnownFailureTtlMs: 200,
      ports: { wellKnown: hs.port, federation: 1 },
    });
    // No well-known and nothing on the fallback port: unreachable.
    expect((await failure(v.verify({ accessToken: 'good', serverName: 'example.org' }))).kind).toBe(
      'unreachable',
    );
    published = true;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
  });

  it('should fetch the well-known once for several verifications', async () => {
    const { hs, ca } = await tlsHomeserver(NAMES_AND_LOOPBACK, (h) => `127.0.0.1:${h.port}`);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({ allowPrivate: true, dns, ca, ports: { wellKnown: hs.port } });
    for (let i = 0; i < 5; i++) await v.verify({ accessToken: 'good', serverName: 'example.org' });
    expect(hs.requests.filter((r) => r.path === '/.well-known/matrix/server')).toHaveLength(1);
    expect(hs.requests).toHaveLength(6);
  });
});

describe('well-known fetch', () => {
  async function redirecting(location: (hs: FakeHomeserver) => string) {
    const tls = await createSelfSignedCertificate(NAMES_AND_LOOPBACK);
    const hs = await homeserver((req, res) => {
      if (req.url === '/.well-known/matrix/server') {
        res.writeHead(302, { location: location(hs) }).end();
      } else if (req.url === '/moved') {
        res.writeHead(200).end(JSON.stringify({ 'm.server': `127.0.0.1:${hs.port}` }));
      } else userinfoHandler('@alice:example.org')(req, res);
    }, tls);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'], 'matrix.example.org': ['127.0.0.1'] });
    const v = verifier({
      allowPrivate: true,
      dns,
      ca: tls.cert,
      ports: { wellKnown: hs.port, federation: hs.port },
    });
    return { hs, v };
  }

  it('should give up on a hanging well-known in time to fall back to the federation port', async () => {
    const tls = await createSelfSignedCertificate(NAMES);
    const hs = await homeserver((req, res) => {
      // The well-known request never gets an answer; userinfo does.
      if (req.url !== '/.well-known/matrix/server') userinfoHandler('@alice:example.org')(req, res);
    }, tls);
    const dns = fixedDns({ 'example.org': ['127.0.0.1'] });
    const v = verifier({
      allowPrivate: true,
      dns,
      ca: tls.cert,
      totalTimeoutMs: 1_000,
      ports: { wellKnown: hs.port, federation: hs.port },
    });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(hs.requests.map((r) => r.path)).toEqual([
      '/.well-known/matrix/server',
      '/_matrix/federation/v1/openid/userinfo',
    ]);
  });

  it('should follow an https redirect', async () => {
    const { hs, v } = await redirecting((h) => `https://matrix.example.org:${h.port}/moved`);
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(hs.requests.map((r) => r.path)).toEqual([
      '/.well-known/matrix/server',
      '/moved',
      '/_matrix/federation/v1/openid/userinfo',
    ]);
    expect(hs.requests.at(-1)?.host).toBe(`127.0.0.1:${hs.port}`);
  });

  it('should not follow a redirect to plain http, falling back to the federation port', async () => {
    const { hs, v } = await redirecting((h) => `http://matrix.example.org:${h.port}/moved`);
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(hs.requests.map((r) => [r.path, r.host])).toEqual([
      ['/.well-known/matrix/server', `example.org:${hs.port}`],
      ['/_matrix/federation/v1/openid/userinfo', 'example.org'],
    ]);
  });
});

describe('TLS verification', () => {
  async function selfSigned() {
    return homeserver(
      (req, res) => {
        userinfoHandler(`@alice:127.0.0.1:${(req.socket.localPort ?? 0).toString()}`)(req, res);
      },
      await createSelfSignedCertificate({ ips: ['127.0.0.1'] }),
    );
  }

  it('should refuse a self-signed certificate before any HTTP request', async () => {
    const hs = await selfSigned();
    const v = verifier({ allowPrivate: true });
    const error = await failure(
      v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/self[- ]signed/i);
    expect(hs.requests).toEqual([]);
  });

  it('should accept a self-signed certificate with insecureSkipVerifyTls', async () => {
    const hs = await selfSigned();
    const v = verifier({ allowPrivate: true, insecureSkipVerifyTls: true });
    await expect(
      v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    ).resolves.toEqual({
      sub: `@alice:127.0.0.1:${hs.port}`,
    });
  });

  it('should check an IP literal against the certificate IP addresses', async () => {
    const tls = await createSelfSignedCertificate({ dnsNames: ['example.org'] });
    const hs = await homeserver(userinfoHandler('@a:b'), tls);
    const v = verifier({ allowPrivate: true, ca: tls.cert });
    const error = await failure(
      v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});
