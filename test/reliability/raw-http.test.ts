// Requests Node's HTTP parser refuses before any route runs, sent as raw bytes to both services
// listening on loopback. Each must still get a Matrix error with CORS (a browser reading a 431
// caused by big cookies must see a readable error, not a CORS failure), and the service must
// serve the next request. An HTTP/1.1 request without Host is answered by Node itself (400, no
// body) and is only checked for that, for liveness, and that nothing else is written after it.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '@rtc-sidecars/livekit-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildWellKnownApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { RecordingVerifier } from './fake-peers.ts';
import { listenOnLoopback, livekitJwtConfig } from './in-process-apps.ts';
import { rawRequest } from './raw-http.ts';

const MALFORMED: readonly [string, string][] = [
  [
    'a 20 kB header (431)',
    `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
  ],
  [
    'two different Content-Lengths',
    'POST /get_token HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}',
  ],
  [
    'Content-Length and chunked together',
    'POST /get_token HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
  ],
  ['a lower-case method', 'get /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
  ['a garbage request line', 'GARBAGE\r\n\r\n'],
  [
    'a header without a colon',
    'GET /healthz HTTP/1.1\r\nHost: a\r\nNoColon\r\nConnection: close\r\n\r\n',
  ],
  ['a space before the colon', 'GET /healthz HTTP/1.1\r\nHost : a\r\nConnection: close\r\n\r\n'],
  [
    'an obsolete folded header',
    'GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\nConnection: close\r\n\r\n',
  ],
  [
    'a NUL in a header value',
    'GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\nConnection: close\r\n\r\n',
  ],
  [
    'a bad chunk size',
    'POST /get_token HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  ],
  ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
  [
    'a malformed escape in the path',
    'GET /get_token%zz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ],
  ['HTTP/2.0 on an HTTP/1 port', 'GET / HTTP/2.0\r\nHost: a\r\nConnection: close\r\n\r\n'],
];

const apps: Record<string, FastifyInstance> = {};
let ports: Record<string, number> = {};

beforeAll(async () => {
  apps['livekit-jwt'] = await buildApp({
    config: livekitJwtConfig(),
    verifier: new RecordingVerifier(),
    logStream: false,
  });
  apps['well-known'] = buildWellKnownApp(
    loadWellKnownConfig({
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
      WELL_KNOWN_LOG_LEVEL: 'silent',
    }),
  );
  ports = await listenOnLoopback(apps);
});

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
});

async function expectAlive(service: string): Promise<void> {
  const res = await rawRequest(
    ports[service] as number,
    'GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  expect(res.status).toBe(200);
}

describe.each(['livekit-jwt', 'well-known'])('%s refusing malformed HTTP', (service) => {
  it('should answer every malformed request with a 4xx Matrix error and CORS, and keep serving', async () => {
    const wrong: string[] = [];
    for (const [label, request] of MALFORMED) {
      const res = await rawRequest(ports[service] as number, request);
      const matrix = /^\{.*"errcode":"M_[A-Z_]+".*"error":".*\}$/.test(res.body);
      const cors = res.headers['access-control-allow-origin'] === '*';
      if (res.status < 400 || res.status >= 500 || !matrix || !cors) {
        wrong.push(`${label}: ${res.status} cors=${String(cors)} ${res.body.slice(0, 120)}`);
      }
      await expectAlive(service);
    }
    expect(wrong).toEqual([]);
  });

  it('should answer a request without Host and with a bad Transfer-Encoding exactly once', async () => {
    // Node answers the missing Host with a bare 400; nothing may follow it on the connection.
    const res = await rawRequest(
      ports[service] as number,
      'GET /healthz HTTP/1.1\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n',
    );
    expect(res.status).toBe(400);
    expect(res.raw.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    await expectAlive(service);
  });

  it('should answer an HTTP/1.1 request without Host with 400 and keep serving', async () => {
    const res = await rawRequest(
      ports[service] as number,
      'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n',
    );
    expect(res.status).toBe(400);
    await expectAlive(service);
  });
});

describe('livekit-jwt token paths spelled differently', () => {
  it.each(['/%67et_token', '/get_token#fragment', '/sfu/%67et'])(
    'should put the CORS block on the token endpoint reached as %s',
    async (target) => {
      const res = await rawRequest(
        ports['livekit-jwt'] as number,
        `POST ${target} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      // The router decodes the path and drops the fragment, so this is the token endpoint...
      expect(res.body).toMatch(/"errcode":"M_(BAD|NOT)_JSON"/);
      // ...and its answer must carry the endpoint's CORS block like any other.
      expect(res.headers['access-control-allow-origin']).toBe('*');
    },
  );
});
