import { describe, expect, it } from 'vitest';
import { domainFetch, route, startFrontDoor } from './front-door.ts';

const routes = {
  wellKnown: 'http://127.0.0.1:1001',
  livekitJwt: 'http://127.0.0.1:1002',
  homeserver: 'http://127.0.0.1:1003',
};

describe('front door', () => {
  it('should send discovery and the MSC4143 transports paths to the well-known service', () => {
    for (const path of [
      '/.well-known/matrix/client',
      '/.well-known/matrix/server',
      '/_matrix/client/v1/rtc/transports',
      '/_matrix/client/unstable/org.matrix.msc4143/rtc/transports',
    ]) {
      expect(route(routes, path)).toEqual({ base: routes.wellKnown, path });
    }
  });

  it('should strip the /livekit/jwt prefix on the way to livekit-jwt', () => {
    expect(route(routes, '/livekit/jwt/get_token')).toEqual({
      base: routes.livekitJwt,
      path: '/get_token',
    });
    expect(route(routes, '/livekit/jwt')).toEqual({ base: routes.livekitJwt, path: '/' });
  });

  it('should send everything else, look-alikes included, to the homeserver', () => {
    for (const path of [
      '/_matrix/client/versions',
      '/_matrix/client/v3/login',
      '/_matrix/client/v1/rtc/transportsX',
      '/livekit/jwtx',
    ]) {
      expect(route(routes, path).base).toBe(routes.homeserver);
    }
  });

  it('should take https://<domain> requests to the front door over plain HTTP', async () => {
    const door = await startFrontDoor({ ...routes, homeserver: 'http://127.0.0.1:9' });
    try {
      const res = await domainFetch(
        'call.e2e.test',
        door.url,
      )('https://call.e2e.test/_matrix/client/versions');
      // Nothing listens on the homeserver port: the 502 comes from the front door itself.
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/^front door:/);
    } finally {
      await door.close();
    }
  });
});
