// Regression test for a bug the fuzzer found: the transports endpoint forwards a bearer token of
// any length to the homeserver, so one anonymous request with a 20 kB token costs a whoami call
// and, when the homeserver refuses the oversized header (431 here, as Node and most proxies
// do), the client gets 502 and the whoami metric counts the homeserver as unavailable.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { startWhoamiRecorder, type WhoamiRecorder } from './fake-peers.ts';

let homeserver: WhoamiRecorder;
let app: FastifyInstance;

beforeAll(async () => {
  homeserver = await startWhoamiRecorder();
  app = buildApp(
    loadWellKnownConfig({
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
      WELL_KNOWN_HOMESERVER_INTERNAL_URL: homeserver.url,
      WELL_KNOWN_LOG_LEVEL: 'silent',
    }),
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await homeserver.close();
});

describe('well-known transports endpoint', () => {
  it('should refuse a 20 kB bearer token with 401 M_UNKNOWN_TOKEN and no homeserver call', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/_matrix/client/v1/rtc/transports',
      headers: { authorization: `Bearer ${'t'.repeat(20_000)}` },
    });
    expect({
      status: res.statusCode,
      body: res.json<unknown>(),
      homeserverConnections: homeserver.connections,
    }).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: expect.any(String) as unknown },
      homeserverConnections: 0,
    });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
