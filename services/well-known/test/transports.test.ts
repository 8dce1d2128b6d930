import { Writable } from 'node:stream';
import { freePort } from '@rtc-sidecars/test-harness';
import { loggerOptions } from '@rtc-sidecars/http-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { TRANSPORTS_PATHS } from '../src/transports-routes.ts';
import { type FakeHomeserver, startFakeHomeserver } from './fake-homeserver.ts';
import { testConfig } from './test-config.ts';

let hs: FakeHomeserver;
let logs = '';
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  hs = await startFakeHomeserver();
});
afterAll(async () => {
  await hs.close();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  hs.whoamiCalls.length = 0;
});

function app(overrides: Record<string, string> = {}): FastifyInstance {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const a = buildApp(testConfig({ WELL_KNOWN_HOMESERVER_INTERNAL_URL: hs.url, ...overrides }), {
    logger: { ...loggerOptions({ level: 'trace' }), stream },
  });
  apps.push(a);
  return a;
}

const [V1, UNSTABLE] = TRANSPORTS_PATHS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const FOCI = [{ type: 'livekit', livekit_service_url: 'https://livekit.example.org/livekit-jwt' }];

describe('GET rtc/transports', () => {
  it.each(TRANSPORTS_PATHS)('should answer %s for an accepted token', async (url) => {
    const res = await app().inject({ url, headers: bearer('good-a') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ rtc_transports: FOCI });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(hs.whoamiCalls).toEqual(['Bearer good-a']);
  });

  it('should remember an accepted token for the cache lifetime', async () => {
    const a = app();
    for (const url of [V1, UNSTABLE, V1]) {
      expect((await a.inject({ url, headers: bearer('good-b') })).statusCode).toBe(200);
    }
    expect(hs.whoamiCalls).toHaveLength(1);
    expect((await a.inject({ url: V1, headers: bearer('good-c') })).statusCode).toBe(200);
    expect(hs.whoamiCalls).toHaveLength(2);
  });

  it('should ask every time when the cache is off, sharing concurrent checks', async () => {
    const a = app({ WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0' });
    await a.inject({ url: V1, headers: bearer('good-d') });
    await a.inject({ url: V1, headers: bearer('good-d') });
    expect(hs.whoamiCalls).toHaveLength(2);
    const together = await Promise.all(
      [1, 2, 3].map(() => a.inject({ url: V1, headers: bearer('good-d') })),
    );
    expect(together.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(hs.whoamiCalls).toHaveLength(3);
  });

  it.each([undefined, 'Basic dXNlcjpwdw==', 'Bearer', 'Bearer a b'])(
    'should answer 401 M_MISSING_TOKEN for Authorization %s without asking the homeserver',
    async (authorization) => {
      const res = await app().inject({
        url: V1,
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.json()).toEqual({ errcode: 'M_MISSING_TOKEN', error: 'Missing access token' });
      expect(hs.whoamiCalls).toHaveLength(0);
    },
  );

  it('should answer 401 M_UNKNOWN_TOKEN for a rejected token and not remember it', async () => {
    const a = app();
    for (let i = 0; i < 2; i++) {
      const res = await a.inject({ url: UNSTABLE, headers: bearer('nope') });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        errcode: 'M_UNKNOWN_TOKEN',
        error: 'Unrecognised access token',
      });
    }
    expect(hs.whoamiCalls).toHaveLength(2);
  });

  it('should refuse an over-long token without asking the homeserver', async () => {
    const a = app();
    const ok = await a.inject({ url: V1, headers: bearer(`good-${'t'.repeat(4091)}`) });
    expect(ok.statusCode).toBe(200);
    expect(hs.whoamiCalls).toHaveLength(1);
    const res = await a.inject({ url: V1, headers: bearer(`good-${'t'.repeat(20_000)}`) });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.json().errcode).toBe('M_UNKNOWN_TOKEN');
    expect(hs.whoamiCalls).toHaveLength(1);
  });

  it('should pass on soft logout', async () => {
    const res = await app().inject({ url: V1, headers: bearer('soft-1') });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ errcode: 'M_UNKNOWN_TOKEN', soft_logout: true });
  });

  it('should answer 403 M_FORBIDDEN when the homeserver refuses the user', async () => {
    const res = await app().inject({ url: V1, headers: bearer('forbidden-1') });
    expect(res.statusCode).toBe(403);
    expect(res.json().errcode).toBe('M_FORBIDDEN');
  });

  it('should answer 502 without upstream details when the homeserver fails', async () => {
    const res = await app().inject({ url: V1, headers: bearer('broken-1') });
    expect(res.statusCode).toBe(502);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.json()).toEqual({
      errcode: 'M_UNKNOWN',
      error: 'Could not check the access token with the homeserver',
    });
  });

  it('should answer 502 when the homeserver is down', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await app({ WELL_KNOWN_HOMESERVER_INTERNAL_URL: closed }).inject({
      url: V1,
      headers: bearer('good-e'),
    });
    expect(res.statusCode).toBe(502);
    expect(res.json().errcode).toBe('M_UNKNOWN');
  });

  it('should answer 504 when the homeserver hangs past the configured bound', async () => {
    const res = await app({ WELL_KNOWN_WHOAMI_TIMEOUT_MS: '300' }).inject({
      url: V1,
      headers: bearer('hang-1'),
    });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toEqual({
      errcode: 'M_UNKNOWN',
      error: 'The homeserver did not answer in time',
    });
  });

  it('should count checks by outcome', async () => {
    const a = app();
    await a.inject({ url: V1, headers: bearer('good-f') });
    await a.inject({ url: V1, headers: bearer('good-f') });
    await a.inject({ url: V1, headers: bearer('nope') });
    const metrics = (await a.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('well_known_whoami_checks_total{result="ok"} 1');
    expect(metrics).toContain('well_known_whoami_checks_total{result="cached"} 1');
    expect(metrics).toContain('well_known_whoami_checks_total{result="rejected"} 1');
  });

  it('should never log a token, even at trace level', async () => {
    // Runs last: `logs` holds every line of the tests above.
    const a = app();
    await a.inject({ url: `${V1}?access_token=query-secret`, headers: bearer('good-secret') });
    expect(logs).toContain('"url":"/_matrix/client/v1/rtc/transports?access_token=[redacted]"');
    for (const token of [
      'good-a',
      'nope',
      'soft-1',
      'broken-1',
      'hang-1',
      'good-secret',
      'query-secret',
    ]) {
      expect(logs).not.toContain(token);
    }
  });
});
