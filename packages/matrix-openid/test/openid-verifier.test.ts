import { afterEach, describe, expect, it } from 'vitest';
import { createOpenIdVerifier, OpenIdError, type OpenIdVerifier } from '../src/index.ts';
import {
  type FakeHomeserver,
  selfSignedCertificate,
  startFakeHomeserver,
  userinfoHandler,
} from './fake-homeserver.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function homeserver(
  ...args: Parameters<typeof startFakeHomeserver>
): Promise<FakeHomeserver> {
  const hs = await startFakeHomeserver(...args);
  cleanups.push(() => hs.close());
  return hs;
}

function verifier(options: Parameters<typeof createOpenIdVerifier>[0]): OpenIdVerifier {
  const v = createOpenIdVerifier(options);
  cleanups.push(() => v.close());
  return v;
}

async function failure(promise: Promise<unknown>): Promise<OpenIdError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenIdError);
  return error as OpenIdError;
}

describe('createOpenIdVerifier with an override', () => {
  it('should return sub from the override URL over plain HTTP', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const v = verifier({ overrides: new Map([['example.org', hs.url]]) });
    await expect(v.verify({ accessToken: 'good', serverName: 'example.org' })).resolves.toEqual({
      sub: '@alice:example.org',
    });
    expect(hs.requests).toEqual([
      {
        path: '/_matrix/federation/v1/openid/userinfo',
        host: `127.0.0.1:${hs.port}`,
        token: 'good',
      },
    ]);
  });

  it('should report rejected for an unknown token, without the token in the message', async () => {
    const hs = await homeserver(userinfoHandler('@alice:example.org'));
    const v = verifier({ overrides: new Map([['example.org', hs.url]]) });
    const error = await failure(
      v.verify({ accessToken: 'secret-token', serverName: 'example.org' }),
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('401');
    expect(error.message).toContain('M_UNKNOWN_TOKEN');
    expect(JSON.stringify({ m: error.message, c: error.cause, s: error.stack })).not.toContain(
      'secret-token',
    );
  });
});

describe('createOpenIdVerifier with allowPrivate', () => {
  it('should verify an IP-literal server name on loopback over TLS', async () => {
    const tls = selfSignedCertificate('IP:127.0.0.1');
    const hs = await homeserver((req, res) => {
      handler(req, res);
    }, tls);
    const name = `127.0.0.1:${hs.port}`;
    const handler = userinfoHandler(`@bob:${name}`);
    const v = verifier({ allowPrivate: true, insecureSkipVerifyTls: true });
    await expect(v.verify({ accessToken: 'good', serverName: name })).resolves.toEqual({
      sub: `@bob:${name}`,
    });
    expect(hs.requests[0]?.host).toBe(name);
  });

  it('should refuse a loopback IP literal while the guard is on, with no connection made', async () => {
    const hs = await homeserver(userinfoHandler('@bob:x'));
    const v = verifier({});
    const error = await failure(
      v.verify({ accessToken: 'good', serverName: `127.0.0.1:${hs.port}` }),
    );
    expect(error.kind).toBe('refused_by_policy');
    expect(hs.connections).toBe(0);
  });
});
