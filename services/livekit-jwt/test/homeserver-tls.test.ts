import { createOpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import { createSelfSignedCertificate } from '@rtc-sidecars/test-harness';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { verifierOptions } from '../src/verifier-options.ts';
import { FakeRooms, getTokenBody, jwtOf, testConfig, verifyJwt } from './helpers.ts';

// Upstream's skip_verify_tls.rs and the server check, through the real verifier as server.ts
// wires it: a self-signed homeserver whose server name is `127.0.0.1:<port>` (an IP literal with
// a port, so no discovery), like the upstream black-box harness.
describe('livekit-jwt with a self-signed loopback homeserver', () => {
  let homeserver: Server;
  let serverName: string;
  const requests: string[] = [];
  let subServer = '';

  beforeAll(async () => {
    homeserver = createServer(
      await createSelfSignedCertificate({ ips: ['127.0.0.1'] }),
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://x');
        requests.push(url.pathname);
        res.setHeader('content-type', 'application/json');
        if (url.searchParams.get('access_token') === 'valid-token') {
          res.end(JSON.stringify({ sub: `@alice:${subServer || serverName}` }));
        } else {
          res.writeHead(401).end('{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}');
        }
      },
    );
    await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
    serverName = `127.0.0.1:${(homeserver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => homeserver.close(resolve));
  });

  async function request(env: Record<string, string>) {
    const config = testConfig({
      LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
      LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'true',
      ...env,
    });
    const app = await buildApp({
      config,
      verifier: createOpenIdVerifier({ ...verifierOptions(config), totalTimeoutMs: 5000 }),
      rooms: new FakeRooms(),
      logStream: false,
    });
    try {
      return await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: getTokenBody(serverName),
      });
    } finally {
      await app.close();
    }
  }

  const UNAUTHORISED = { errcode: 'M_UNAUTHORIZED', error: 'The request could not be authorised.' };

  it('should accept the self-signed homeserver with the exact skip-verify value (row 26)', async () => {
    requests.length = 0;
    const res = await request({ LIVEKIT_INSECURE_SKIP_VERIFY_TLS: 'YES_I_KNOW_WHAT_I_AM_DOING' });
    expect(res.statusCode).toBe(200);
    expect((await verifyJwt(jwtOf(res))).video).toMatchObject({ canPublish: false });
    expect(requests).toEqual(['/_matrix/federation/v1/openid/userinfo']);
  });

  it.each<Record<string, string>>([{}, { LIVEKIT_INSECURE_SKIP_VERIFY_TLS: 'true' }])(
    'should answer 401 with no request reaching the homeserver when verification is on (row 25): %o',
    async (env) => {
      requests.length = 0;
      const res = await request(env);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(UNAUTHORISED);
      expect(requests).toEqual([]);
    },
  );

  it('should refuse a loopback homeserver unless private homeservers are allowed', async () => {
    requests.length = 0;
    const res = await request({
      LIVEKIT_INSECURE_SKIP_VERIFY_TLS: 'YES_I_KNOW_WHAT_I_AM_DOING',
      LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'false',
    });
    expect(res.statusCode).toBe(401);
    expect(requests).toEqual([]);
  });

  it('should answer 401 when the homeserver vouches for a user of another server (row 22)', async () => {
    subServer = 'evil.example.org';
    try {
      const res = await request({ LIVEKIT_INSECURE_SKIP_VERIFY_TLS: 'YES_I_KNOW_WHAT_I_AM_DOING' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(UNAUTHORISED);
    } finally {
      subServer = '';
    }
  });
});
