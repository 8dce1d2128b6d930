import { buildApp, CORS_HEADERS } from '@rtc-sidecars/livekit-jwt';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildWellKnownApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { RecordingRooms, RecordingVerifier } from './fake-peers.ts';
import { livekitJwtConfig } from './in-process-apps.ts';
import { VALID_TOKEN } from './token-body-arbitrary.ts';

// Load shedding (RELIABILITY.md §4, overload): what a shed request gets, not when shedding
// starts. Both apps run with a 1 ms event-loop delay threshold, and the test blocks the event
// loop until the plugin's sampler reports pressure; nothing here asserts a duration.

/** Blocks this thread (the event loop) for `ms`, as a burst of synchronous work would. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Blocks the event loop until the app's sampler has seen the lag; bounded in attempts. */
async function underPressure(app: FastifyInstance): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    blockEventLoop(700);
    await new Promise((resolve) => setImmediate(resolve));
    if (app.isUnderPressure()) return;
  }
  throw new Error('the app never reported pressure after 10 blocked samples');
}

/** The answer every refusal must carry, spelled out here as the wire contract. */
const OVERLOADED_ANSWER = {
  errcode: 'M_UNKNOWN',
  error: 'The service is overloaded; retry later',
};

/** A valid legacy token request: refused only for the load, never for its content. */
const TOKEN_REQUEST = {
  method: 'POST' as const,
  url: '/sfu/get',
  headers: { 'content-type': 'application/json' },
  payload: {
    room: '!room:example.com',
    openid_token: { access_token: VALID_TOKEN, matrix_server_name: 'example.com' },
    device_id: 'DEVICE',
  },
};

const verifier = new RecordingVerifier();
let tokenApp: FastifyInstance;
let wellKnownApp: FastifyInstance;

beforeAll(async () => {
  tokenApp = await buildApp({
    config: livekitJwtConfig({ LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS: '1' }),
    verifier,
    rooms: new RecordingRooms(),
    logStream: false,
  });
  wellKnownApp = buildWellKnownApp(
    loadWellKnownConfig({
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org',
      WELL_KNOWN_LOG_LEVEL: 'silent',
      WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS: '1',
    }),
  );
  await Promise.all([tokenApp.ready(), wellKnownApp.ready()]);
});

afterAll(async () => {
  await Promise.all([tokenApp.close(), wellKnownApp.close()]);
});

describe('load shedding', () => {
  it('should refuse a livekit-jwt token request with 503 M_UNKNOWN and the CORS block, without verifying it', async () => {
    await underPressure(tokenApp);
    const before = verifier.calls.length;
    const res = await tokenApp.inject(TOKEN_REQUEST);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(OVERLOADED_ANSWER);
    expect(res.headers).toMatchObject(CORS_HEADERS);
    expect(res.headers['retry-after']).toBe('5');
    expect(verifier.calls.length).toBe(before);
  });

  it('should keep answering livekit-jwt /healthz and /metrics, which counts the refusal', async () => {
    await underPressure(tokenApp);
    await tokenApp.inject({ method: 'POST', url: '/get_token', payload: '{}' });
    const health = await tokenApp.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const metrics = await tokenApp.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /livekit_jwt_token_requests_total\{[^}]*outcome="overloaded"[^}]*\} [1-9]/,
    );
  });

  it('should refuse a well-known transports request with 503 M_UNKNOWN and CORS', async () => {
    await underPressure(wellKnownApp);
    const res = await wellKnownApp.inject({
      method: 'GET',
      url: '/_matrix/client/v1/rtc/transports',
      headers: { authorization: 'Bearer token', origin: 'https://app.element.io' },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(OVERLOADED_ANSWER);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['retry-after']).toBe('5');
  });

  it('should keep answering well-known /healthz under pressure', async () => {
    await underPressure(wellKnownApp);
    const res = await wellKnownApp.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('livekit-jwt admission limit', () => {
  it('should refuse a token request past LIVEKIT_JWT_MAX_IN_FLIGHT with 503 M_UNKNOWN and CORS, and admit again once one is answered', async () => {
    // A verifier that holds the first request until released: one token request in flight.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate = new RecordingVerifier();
    const verify = gate.verify.bind(gate);
    gate.verify = async (input) => {
      if (gate.calls.length === 0) await held;
      return verify(input);
    };
    const app = await buildApp({
      config: livekitJwtConfig({
        LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS: '0',
        LIVEKIT_JWT_MAX_IN_FLIGHT: '1',
      }),
      verifier: gate,
      rooms: new RecordingRooms(),
      logStream: false,
    });
    try {
      const first = app.inject(TOKEN_REQUEST);
      await new Promise((resolve) => setImmediate(resolve));
      const second = await app.inject(TOKEN_REQUEST);
      expect(second.statusCode).toBe(503);
      expect(second.json()).toEqual(OVERLOADED_ANSWER);
      expect(second.headers).toMatchObject(CORS_HEADERS);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      release();
      expect((await first).statusCode).toBe(200);
      expect((await app.inject(TOKEN_REQUEST)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('well-known admission limit', () => {
  it('should refuse a transports check past WELL_KNOWN_MAX_IN_FLIGHT with 503 M_UNKNOWN and CORS, and admit again once one is answered', async () => {
    // A homeserver that holds whoami calls until released: one transports check in flight.
    const held: ServerResponse[] = [];
    const homeserver = createServer((_req, res) => {
      held.push(res);
    });
    await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
    const app = buildWellKnownApp(
      loadWellKnownConfig({
        WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
        WELL_KNOWN_HOMESERVER_INTERNAL_URL: `http://127.0.0.1:${String((homeserver.address() as AddressInfo).port)}`,
        WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org',
        WELL_KNOWN_LOG_LEVEL: 'silent',
        WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0',
        WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS: '0',
        WELL_KNOWN_MAX_IN_FLIGHT: '1',
      }),
    );
    try {
      const request = {
        method: 'GET' as const,
        url: '/_matrix/client/v1/rtc/transports',
        headers: { authorization: 'Bearer token' },
      };
      const first = app.inject(request);
      await expect.poll(() => held.length, { interval: 10 }).toBe(1);
      const second = await app.inject(request);
      expect(second.statusCode).toBe(503);
      expect(second.json()).toEqual(OVERLOADED_ANSWER);
      expect(second.headers['access-control-allow-origin']).toBe('*');
      expect(held).toHaveLength(1);
      const answer = (res: ServerResponse | undefined): void => {
        res?.writeHead(200, { 'content-type': 'application/json' });
        res?.end('{"user_id":"@alice:example.org"}');
      };
      answer(held[0]);
      expect((await first).statusCode).toBe(200);
      const third = app.inject(request);
      await expect.poll(() => held.length, { interval: 10 }).toBe(2);
      answer(held[1]);
      expect((await third).statusCode).toBe(200);
    } finally {
      await app.close();
      homeserver.closeAllConnections();
      homeserver.close();
    }
  });
});
