// Property-based tests over the well-known service's whole HTTP surface through app.inject():
// generated methods, paths, headers and bodies, against a full and a minimal configuration,
// with a recording homeserver behind the transports endpoint. `pnpm fuzz` runs them with
// FUZZ_RUNS=10000; the default run takes a quick sample.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { TRANSPORTS_PATHS } from '../../services/well-known/src/transports-routes.ts';
import { startWhoamiRecorder, type WhoamiRecorder } from './fake-peers.ts';
import {
  assertProperty,
  expectMatrixAnswer,
  FUZZ_RUNS,
  FuzzStats,
  injectGuarded,
  propertyTimeout,
} from './fuzz-support.ts';
import {
  authorizationArbitrary,
  headersArbitrary,
  methodArbitrary,
  pathArbitrary,
} from './http-arbitraries.ts';

const DOCUMENTS = [
  '/.well-known/matrix/client',
  '/.well-known/matrix/server',
  '/.well-known/matrix/support',
];
const KNOWN_PATHS = [...DOCUMENTS, ...TRANSPORTS_PATHS, '/healthz', '/metrics'];
const BEARER = /^Bearer +([^\s]+) *$/i;

let homeserver: WhoamiRecorder;
let apps: { full: FastifyInstance; minimal: FastifyInstance };
const stats = [
  new FuzzStats('well-known HTTP surface'),
  new FuzzStats('well-known transports tokens'),
];

beforeAll(async () => {
  homeserver = await startWhoamiRecorder();
  const common = {
    WELL_KNOWN_BIND: '127.0.0.1:0',
    WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
    WELL_KNOWN_HOMESERVER_INTERNAL_URL: homeserver.url,
    WELL_KNOWN_LOG_LEVEL: 'silent',
    // Generating cases blocks this process's event loop; shedding is tested in overload.test.ts.
    WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS: '0',
  };
  const full = buildApp(
    loadWellKnownConfig({
      ...common,
      WELL_KNOWN_SERVER: 'matrix.example.org:443',
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org/livekit-jwt',
      WELL_KNOWN_IDENTITY_SERVER_BASE_URL: 'https://vector.im',
      WELL_KNOWN_CLIENT_EXTRA: '{"io.element.e2ee":{"default":true}}',
      WELL_KNOWN_SUPPORT_PAGE: 'https://example.org/help',
      WELL_KNOWN_SUPPORT_CONTACTS: '[{"role":"m.role.admin","matrix_id":"@admin:example.org"}]',
      // Every check reaches the homeserver: the recorder refuses all tokens anyway.
      WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0',
    }),
  );
  const minimal = buildApp(loadWellKnownConfig(common));
  apps = { full, minimal };
  await Promise.all([full.ready(), minimal.ready()]);
});

afterAll(async () => {
  await Promise.all([apps.full.close(), apps.minimal.close()]);
  await homeserver.close();
  for (const s of stats) console.log(s.summary());
});

describe('well-known under generated input', () => {
  it(
    'should answer any method, path, headers and body without a 5xx, with Matrix errors and CORS on every answer',
    async () => {
      const [s] = stats as [FuzzStats];
      await assertProperty(
        fc.asyncProperty(
          fc.constantFrom('full' as const, 'minimal' as const),
          methodArbitrary,
          pathArbitrary(KNOWN_PATHS),
          headersArbitrary,
          fc.option(fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b))),
          async (which, method, url, headers, payload) => {
            const calls = homeserver.calls.length;
            const res = await injectGuarded(
              apps[which],
              { method: method, url, headers, ...(payload === null ? {} : { payload }) },
              s,
            );
            const context = `${which}: ${method} ${url.slice(0, 120)} ${JSON.stringify(headers).slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
            expectMatrixAnswer(res, method);
            expect(res.headers['access-control-allow-origin'], context).toBe('*');
            const outbound = homeserver.calls.length - calls;
            if (outbound > 0) {
              // Only a bearer token on GET/HEAD of the transports endpoint may cost a whoami call.
              // inject() upper-cases methods, as a proxy in front of the service may.
              expect(['GET', 'HEAD'], context).toContain(method.toUpperCase());
              expect(headers.authorization ?? '', context).toMatch(BEARER);
              expect(res.statusCode, context).toBe(401);
            }
            if (
              res.statusCode === 200 &&
              method === 'GET' &&
              DOCUMENTS.includes(url.split('?', 1)[0] ?? '')
            ) {
              expect(() => JSON.parse(res.body) as unknown, context).not.toThrow();
            }
            if (res.statusCode === 304) expect(res.body, context).toBe('');
          },
        ),
      );
      expect(s.cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
    },
    propertyTimeout(),
  );

  it(
    'should ask the homeserver only for a bearer token, forward exactly that token, and answer 401 with CORS',
    async () => {
      const [, s] = stats as [FuzzStats, FuzzStats];
      await assertProperty(
        fc.asyncProperty(
          fc.constantFrom(...TRANSPORTS_PATHS),
          fc.constantFrom('GET', 'HEAD'),
          fc.option(authorizationArbitrary),
          async (url, method, authorization) => {
            const calls = homeserver.calls.length;
            const res = await injectGuarded(
              apps.full,
              { method, url, headers: authorization === null ? {} : { authorization } },
              s,
            );
            const context = `${method} ${url} authorization=${JSON.stringify(authorization?.slice(0, 80))} → ${res.statusCode} ${res.body.slice(0, 200)}`;
            expectMatrixAnswer(res, method);
            expect(res.headers['access-control-allow-origin'], context).toBe('*');
            expect(res.statusCode, context).toBe(401);
            const token = BEARER.exec(authorization ?? '')?.[1];
            const forwarded = homeserver.calls.slice(calls);
            if (token === undefined) {
              expect(forwarded, context).toEqual([]);
              if (method === 'GET')
                expect(res.json<{ errcode: string }>().errcode, context).toBe('M_MISSING_TOKEN');
            } else {
              expect(forwarded, context).toEqual([`Bearer ${token}`]);
              if (method === 'GET')
                expect(res.json<{ errcode: string }>().errcode, context).toBe('M_UNKNOWN_TOKEN');
            }
          },
        ),
      );
      expect(s.cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
    },
    propertyTimeout(),
  );
});
