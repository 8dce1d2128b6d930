// Fault table for livekit-jwt, for what the matrix-openid and livekit-jwt suites do not already
// show end to end: the homeserver resetting mid-body, dripping bytes (slowloris), sending 10 MB,
// redirecting in a loop, or refusing connections; the SFU (a real livekit-server) down, slow,
// failing with 5xx, or configured with another secret. For each: the status the client gets, the
// metric that counts it, the time taken (printed for RELIABILITY.md, not asserted), and that the
// service still serves the next good request.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { buildApp, loadServiceConfig, MESSAGES, verifierOptions } from '@rtc-sidecars/livekit-jwt';
import { createOpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Livekit, startLivekit } from '../harness/index.ts';

const TOTAL_TIMEOUT_MS = 2000;
const timings: string[] = [];
const sockets = new Set<Socket>();
let homeserver: Server;
let hsUrl: string;
let sfu: Server;
let sfuUrl: string;
let sfuMode: 'ok' | 'slow' | '503' = 'ok';
let livekit: Livekit;
let closedPort: number;
const KEY = 'APIfaults';
const SECRET = randomBytes(32).toString('base64url');

function track(server: Server): void {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

async function listen(server: Server): Promise<string> {
  track(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  homeserver = createServer((req, res: ServerResponse) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token');
    const ok = JSON.stringify({ sub: '@alice:example.com' });
    if (token === 'good' || token === 'remote') {
      const sub = token === 'good' ? '@alice:example.com' : '@bob:remote.example';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub }));
    } else if (token === 'reset') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(ok.length),
      });
      res.write(ok.slice(0, 5));
      setTimeout(() => req.socket.destroy(), 20);
    } else if (token === 'slowloris') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 300);
      res.on('close', () => {
        clearInterval(timer);
      });
    } else if (token === 'huge') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"sub":"@alice:example.com","pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);
    } else if (token === 'redirect') {
      res.writeHead(302, { location: req.url ?? '/' }).end();
    } else {
      res.writeHead(401).end('{"errcode":"M_UNKNOWN_TOKEN"}');
    }
  });
  hsUrl = await listen(homeserver);
  sfu = createServer((req, res) => {
    req.resume();
    if (sfuMode === 'slow') return; // never answers
    if (sfuMode === '503') {
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end('{"code":"unavailable","msg":"overloaded"}');
    } else {
      res.writeHead(200, { 'content-type': 'application/protobuf' }).end();
    }
  });
  sfuUrl = await listen(sfu);
  closedPort = await freePort();
  livekit = await startLivekit({ apiKey: KEY, apiSecret: SECRET });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([homeserver, sfu].map((s) => new Promise((resolve) => s.close(resolve))));
  await livekit.stop();
  console.log(`[faults]\n${timings.join('\n')}`);
});

async function appWith(env: Record<string, string>): Promise<FastifyInstance> {
  const { config } = loadServiceConfig({
    LIVEKIT_URL: 'wss://sfu.example.org',
    LIVEKIT_API_URL: livekit.httpUrl,
    LIVEKIT_KEY: KEY,
    LIVEKIT_SECRET: SECRET,
    LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
    LIVEKIT_JWT_RATE_LIMIT: '0',
    LIVEKIT_OPENID_OVERRIDES: `example.com=${hsUrl},remote.example=${hsUrl},down.example=http://127.0.0.1:${closedPort}`,
    ...env,
  });
  const verifier = createOpenIdVerifier({
    ...verifierOptions(config),
    totalTimeoutMs: TOTAL_TIMEOUT_MS,
  });
  return buildApp({ config, verifier, logStream: false });
}

async function token(app: FastifyInstance, accessToken: string, server = 'example.com') {
  const started = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: '/get_token',
    payload: {
      room_id: `!${randomBytes(4).toString('hex')}:example.com`,
      slot_id: 'm.call#ROOM',
      openid_token: { access_token: accessToken, matrix_server_name: server },
      member: {
        id: 'm',
        claimed_user_id: server === 'example.com' ? '@alice:example.com' : '@bob:remote.example',
        claimed_device_id: 'D',
      },
    },
  });
  return { status: res.statusCode, body: res.json<unknown>(), ms: performance.now() - started };
}

async function counted(app: FastifyInstance, outcome: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('livekit_jwt_token_requests_total{') && l.includes(`outcome="${outcome}"`),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('livekit-jwt under homeserver faults', () => {
  it.each([
    ['connection refused', 'anything', 'down.example', 'openid_unreachable'],
    ['reset mid-body', 'reset', 'example.com', 'openid_unreachable'],
    ['slowloris body', 'slowloris', 'example.com', 'openid_timeout'],
    ['10 MB body', 'huge', 'example.com', 'openid_bad_response'],
    ['redirect loop', 'redirect', 'example.com', 'openid_bad_response'],
  ])(
    'should answer the reference 401 for %s, count it, and serve the next request',
    async (label, accessToken, server, outcome) => {
      const app = await appWith({});
      try {
        const r = await token(app, accessToken, server);
        expect({ status: r.status, body: r.body }).toEqual({
          status: 401,
          body: { errcode: 'M_UNAUTHORIZED', error: MESSAGES.unauthorised },
        });
        expect(await counted(app, outcome)).toBe(1);
        timings.push(
          `homeserver ${label}: 401 ${outcome} in ${r.ms.toFixed(0)} ms (bound ${TOTAL_TIMEOUT_MS} ms)`,
        );
        const next = await token(app, 'good');
        expect(next.status).toBe(200);
      } finally {
        await app.close();
      }
    },
  );
});

describe('livekit-jwt under SFU faults', () => {
  type SfuMode = typeof sfuMode;
  const cases: [string, () => Record<string, string>, SfuMode][] = [
    [
      'down (connection refused)',
      () => ({ LIVEKIT_API_URL: `http://127.0.0.1:${closedPort}` }),
      'ok',
    ],
    ['slow (never answers)', () => ({ LIVEKIT_API_URL: sfuUrl }), 'slow'],
    ['503', () => ({ LIVEKIT_API_URL: sfuUrl }), '503'],
    [
      'configured with another secret (real livekit-server)',
      () => ({ LIVEKIT_SECRET: randomBytes(32).toString('base64url') }),
      'ok',
    ],
  ];
  it.each(cases)(
    'should answer 500 "Unable to create room on SFU" when the SFU is %s, count it, and still serve',
    async (label, env, mode) => {
      sfuMode = mode;
      const app = await appWith(env());
      try {
        const r = await token(app, 'good');
        expect({ status: r.status, body: r.body }).toEqual({
          status: 500,
          body: { errcode: 'M_UNKNOWN', error: MESSAGES.roomCreation },
        });
        expect(await counted(app, 'room_creation_failed')).toBe(1);
        timings.push(
          `SFU ${label}: 500 room_creation_failed in ${r.ms.toFixed(0)} ms (CreateRoom bound 5000 ms)`,
        );
        // Restricted users never touch the SFU: they are still served while it is broken.
        expect((await token(app, 'remote', 'remote.example')).status).toBe(200);
        sfuMode = 'ok';
        if (label !== 'down (connection refused)' && !label.startsWith('configured')) {
          expect((await token(app, 'good')).status).toBe(200);
        }
      } finally {
        sfuMode = 'ok';
        await app.close();
      }
    },
    20_000,
  );
});
