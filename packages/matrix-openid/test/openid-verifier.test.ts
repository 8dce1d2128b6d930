import { createSelfSignedCertificate } from '@rtc-sidecars/test-harness';
import { describe, expect, it } from 'vitest';
import { userinfoHandler } from './fake-homeserver.ts';
import { verifyOpenIdToken } from '../src/index.ts';
import { failure, homeserver, verifier } from './helpers.ts';

const SERVER = 'example.org';

/** A verifier whose override sends `example.org` to the given fake homeserver. */
function overridden(url: string, options: Parameters<typeof verifier>[0] = {}) {
  return verifier({ overrides: new Map([[SERVER, url]]), ...options });
}

describe('OpenIdVerifier.verify', () => {
  it('should return sub from an override URL over plain HTTP', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    await expect(
      overridden(hs.url).verify({ accessToken: 'good', serverName: SERVER }),
    ).resolves.toEqual({ sub: '@alice:example.org' });
    expect(hs.requests).toEqual([
      {
        path: '/_matrix/federation/v1/openid/userinfo',
        host: `127.0.0.1:${hs.port}`,
        token: 'good',
      },
    ]);
  });

  it('should keep a path prefix of the override URL', async () => {
    const hs = await homeserver((req, res) => {
      res
        .writeHead(req.url?.startsWith('/hs/_matrix/') === true ? 200 : 404)
        .end('{"sub":"@a:example.org"}');
    });
    await expect(
      overridden(`${hs.url}/hs/`).verify({ accessToken: 'good', serverName: SERVER }),
    ).resolves.toEqual({ sub: '@a:example.org' });
  });

  it('should verify an IP-literal server name on loopback over TLS with allowPrivate', async () => {
    const hs = await homeserver(
      (req, res) => {
        userinfoHandler(`@bob:127.0.0.1:${hs.port}`)(req, res);
      },
      await createSelfSignedCertificate({ ips: ['127.0.0.1'] }),
    );
    const name = `127.0.0.1:${hs.port}`;
    const v = verifier({ allowPrivate: true, insecureSkipVerifyTls: true });
    await expect(v.verify({ accessToken: 'good', serverName: name })).resolves.toEqual({
      sub: `@bob:${name}`,
    });
    expect(hs.requests[0]?.host).toBe(name);
  });

  it('should report rejected for 401 with the errcode, never the token', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const error = await failure(
      overridden(hs.url).verify({ accessToken: 'secret/token+1', serverName: SERVER }),
      'secret/token+1',
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/HTTP 401 M_UNKNOWN_TOKEN/);
  });

  it('should report rejected for 403 Federation is disabled', async () => {
    const hs = await homeserver((_req, res) => {
      res.writeHead(403).end('{"errcode":"M_FORBIDDEN","error":"Federation is disabled."}');
    });
    const error = await failure(
      overridden(hs.url).verify({ accessToken: 'good', serverName: SERVER }),
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/HTTP 403 M_FORBIDDEN/);
  });

  it.each([
    ['a 500', 500, '{"errcode":"M_UNKNOWN"}', /HTTP 500/],
    ['a 502 with an HTML page', 502, '<html>bad gateway</html>', /HTTP 502$/],
    ['non-JSON', 200, 'this is not json', /not JSON/],
    ['a JSON array', 200, '[]', /missing or invalid "sub"/],
    ['a missing sub', 200, '{"user":"@alice:example.org"}', /missing or invalid "sub"/],
    ['a non-string sub', 200, '{"sub":42}', /missing or invalid "sub"/],
    ['a malformed sub', 200, '{"sub":"alice"}', /missing or invalid "sub"/],
  ])('should report bad_response for %s', async (_label, status, body, message) => {
    const hs = await homeserver((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    const error = await failure(
      overridden(hs.url).verify({ accessToken: 'good', serverName: SERVER }),
    );
    expect(error.kind).toBe('bad_response');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['with Content-Length', true],
    ['chunked', false],
  ])('should report bad_response for an oversized body %s', async (_label, declared) => {
    const body = JSON.stringify({ sub: '@alice:example.org', pad: 'x'.repeat(200_000) });
    const hs = await homeserver((_req, res) => {
      res.writeHead(200, declared ? { 'content-length': Buffer.byteLength(body) } : {});
      res.end(body);
    });
    const v = overridden(hs.url, { maxBodyBytes: 4096 });
    const error = await failure(v.verify({ accessToken: 'good', serverName: SERVER }));
    expect(error.kind).toBe('bad_response');
    expect(error.message).toMatch(/over 4096 bytes/);
  });

  it.each([
    ['another server', '@mallory:evil.org'],
    ['the same host with a port', '@alice:example.org:8448'],
    ['a different case', '@alice:Example.org'],
  ])('should report server_mismatch for a sub on %s', async (_label, sub) => {
    const hs = await homeserver(userinfoHandler(sub));
    const error = await failure(
      overridden(hs.url).verify({ accessToken: 'good', serverName: SERVER }),
    );
    expect(error.kind).toBe('server_mismatch');
    expect(error.message).toContain(sub);
  });

  it('should report timeout for a homeserver that never answers', async () => {
    const hs = await homeserver(() => {
      // Accept the request and never answer.
    });
    const v = overridden(hs.url, { totalTimeoutMs: 300 });
    const error = await failure(v.verify({ accessToken: 'good', serverName: SERVER }));
    expect(error.kind).toBe('timeout');
    expect(hs.requests).toHaveLength(1);
  });

  it('should report timeout for a body that stalls halfway', async () => {
    const hs = await homeserver((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"sub":');
    });
    const v = overridden(hs.url, { totalTimeoutMs: 300 });
    expect((await failure(v.verify({ accessToken: 'good', serverName: SERVER }))).kind).toBe(
      'timeout',
    );
  });

  it('should report unreachable when nothing listens', async () => {
    const hs = await homeserver(userinfoHandler('@a:example.org'));
    const url = hs.url;
    await hs.close();
    const error = await failure(
      overridden(url).verify({ accessToken: 'good', serverName: SERVER }),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('should refuse an invalid server name without any request', async () => {
    const v = verifier({ allowPrivate: true });
    for (const serverName of ['', 'exa mple.org', 'a/b', '@x:y']) {
      expect((await failure(v.verify({ accessToken: 'good', serverName }))).kind).toBe(
        'refused_by_policy',
      );
    }
  });
});

describe('OpenIdVerifier input checks', () => {
  it.each([
    ['empty', ''],
    ['over 4096 characters', 'x'.repeat(4097)],
    ['a lone surrogate', 'abc\ud800def'],
  ])('should reject a token that is %s without any request', async (_label, accessToken) => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const error = await failure(
      overridden(hs.url).verify({ accessToken, serverName: SERVER }),
      accessToken || 'good',
    );
    expect(error.kind).toBe('rejected');
    expect(hs.connections).toBe(0);
  });

  it('should send a token with reserved characters URL-encoded', async () => {
    const hs = await homeserver((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
      res.writeHead(token === 'a&b=c d/é' ? 200 : 401).end('{"sub":"@alice:example.org"}');
    });
    await expect(
      overridden(hs.url).verify({ accessToken: 'a&b=c d/é', serverName: SERVER }),
    ).resolves.toEqual({
      sub: '@alice:example.org',
    });
  });
});

describe('OpenIdVerifier connection reuse', () => {
  it('should reuse one HTTP connection across sequential verifications', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const v = overridden(hs.url);
    for (let i = 0; i < 10; i++) await v.verify({ accessToken: 'good', serverName: SERVER });
    // Failures that read their body must not cost a connection either.
    for (let i = 0; i < 3; i++)
      await failure(v.verify({ accessToken: 'bad', serverName: SERVER }), 'bad');
    expect(hs.requests).toHaveLength(13);
    expect(hs.connections).toBe(1);
  });

  it('should keep concurrent verifications within connectionsPerOrigin', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const v = overridden(hs.url, { connectionsPerOrigin: 2 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => v.verify({ accessToken: 'good', serverName: SERVER })),
    );
    expect(results).toHaveLength(20);
    expect(hs.requests).toHaveLength(20);
    expect(hs.connections).toBeLessThanOrEqual(2);
  });

  it('should reuse one TLS connection across sequential verifications', async () => {
    const hs = await homeserver(
      (req, res) => {
        userinfoHandler(`@bob:127.0.0.1:${hs.port}`)(req, res);
      },
      await createSelfSignedCertificate({ ips: ['127.0.0.1'] }),
    );
    const v = verifier({ allowPrivate: true, insecureSkipVerifyTls: true });
    for (let i = 0; i < 10; i++)
      await v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` });
    expect(hs.requests).toHaveLength(10);
    expect(hs.connections).toBe(1);
  });
});

describe('verifyOpenIdToken', () => {
  it('should use a default verifier with the guard on', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const error = await failure(
      verifyOpenIdToken({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(error.message).toMatch(/refused to connect to 127\.0\.0\.1, a loopback address/);
    expect(hs.connections).toBe(0);
  });
});
