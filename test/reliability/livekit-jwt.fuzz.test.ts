// Property-based tests over livekit-jwt's whole HTTP surface through app.inject(): generated
// methods, paths, headers and token request bodies with every field mutated. `pnpm fuzz` runs
// them with FUZZ_RUNS=10000; the default run takes a quick sample.
import { buildApp, CORS_HEADERS, loadServiceConfig } from '@rtc-sidecars/livekit-jwt';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSignedWith, RecordingRooms, RecordingVerifier } from './fake-peers.ts';
import {
  assertProperty,
  expectMatrixAnswer,
  FUZZ_RUNS,
  FuzzStats,
  injectGuarded,
  propertyTimeout,
} from './fuzz-support.ts';
import { headersArbitrary, methodArbitrary, pathArbitrary } from './http-arbitraries.ts';
import { tokenBodyArbitrary } from './token-body-arbitrary.ts';

const SECRET = 'fuzz-secret-0123456789abcdef-0123456789';
const FULL = 'example.com';
const LIVEKIT_URL = 'wss://sfu.example.org/livekit/sfu';
const KNOWN_PATHS = ['/get_token', '/sfu/get', '/healthz', '/metrics'];
const TOKEN_PATHS = new Set(['/get_token', '/sfu/get']);

let app: FastifyInstance;
const verifier = new RecordingVerifier();
const rooms = new RecordingRooms();
const stats = [
  new FuzzStats('livekit-jwt token bodies'),
  new FuzzStats('livekit-jwt HTTP surface'),
];

beforeAll(async () => {
  const { config } = loadServiceConfig({
    LIVEKIT_URL,
    LIVEKIT_KEY: 'fuzzkey',
    LIVEKIT_SECRET: SECRET,
    LIVEKIT_FULL_ACCESS_HOMESERVERS: FULL,
    LIVEKIT_JWT_RATE_LIMIT: '0',
    // Generating cases blocks this process's event loop; shedding is tested in overload.test.ts.
    LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  app = await buildApp({ config, verifier, rooms, logStream: false });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  for (const s of stats) console.log(s.summary());
});

function expectCors(headers: Record<string, unknown>, context: string): void {
  for (const [name, value] of Object.entries(CORS_HEADERS)) {
    expect(headers[name], `${name} on ${context}`).toBe(value);
  }
}

describe('livekit-jwt under generated input', () => {
  it(
    'should answer every mutated token body with a Matrix error or a valid token, and verify only valid bodies',
    async () => {
      const [s] = stats as [FuzzStats];
      await assertProperty(
        fc.asyncProperty(
          tokenBodyArbitrary(FULL),
          fc.option(
            fc.constantFrom(
              'application/json',
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
            ),
          ),
          async (c, contentType) => {
            const calls = verifier.calls.length;
            const created = rooms.created.length;
            const res = await injectGuarded(
              app,
              {
                method: 'POST',
                url: c.endpoint,
                payload: c.body,
                headers: contentType === null ? {} : { 'content-type': contentType },
              },
              s,
            );
            const context = `${c.mutations.join('; ')} → ${res.statusCode} ${res.body.slice(0, 200)}`;
            expectMatrixAnswer(res, 'POST');
            expectCors(res.headers, context);
            for (const call of verifier.calls.slice(calls)) {
              expect(typeof call.accessToken, context).toBe('string');
              expect(typeof call.serverName, context).toBe('string');
              expect((call.accessToken as string).length, context).toBeLessThanOrEqual(4096);
            }
            if (c.invalid) {
              expect(res.statusCode, context).toBeGreaterThanOrEqual(400);
              expect(
                verifier.calls.length - calls,
                `outbound call for an invalid body: ${context}`,
              ).toBe(0);
              expect(rooms.created.length - created, context).toBe(0);
            }
            if (res.statusCode === 200) {
              const body = res.json<{ url: unknown; jwt: unknown }>();
              expect(Object.keys(body), context).toEqual(['url', 'jwt']);
              expect(body.url).toBe(LIVEKIT_URL);
              expect(isSignedWith(String(body.jwt), SECRET), context).toBe(true);
            } else {
              expect(
                rooms.created.length - created,
                `room created for a refused request: ${context}`,
              ).toBe(0);
            }
          },
        ),
      );
      expect(s.cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
    },
    propertyTimeout(),
  );

  it(
    'should answer any method, path, headers and body without a 5xx, with Matrix errors and CORS',
    async () => {
      const [, s] = stats as [FuzzStats, FuzzStats];
      await assertProperty(
        fc.asyncProperty(
          methodArbitrary,
          pathArbitrary(KNOWN_PATHS),
          headersArbitrary,
          fc.option(
            fc.oneof(
              tokenBodyArbitrary(FULL).map((c) => c.body),
              fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
            ),
          ),
          async (method, url, headers, payload) => {
            const calls = verifier.calls.length;
            const res = await injectGuarded(
              app,
              { method: method, url, headers, ...(payload === null ? {} : { payload }) },
              s,
            );
            const path = url.split('?', 1)[0] ?? url;
            const context = `${method} ${url.slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
            expectMatrixAnswer(res, method);
            // CORS is promised on every answer of the token paths and on every unknown path.
            if (TOKEN_PATHS.has(path) || res.statusCode === 404 || res.statusCode === 405) {
              expect(res.headers['access-control-allow-origin'], context).toBe('*');
            }
            if (method.toUpperCase() !== 'POST')
              expect(verifier.calls.length - calls, context).toBe(0);
          },
        ),
      );
      expect(s.cases).toBeGreaterThanOrEqual(FUZZ_RUNS);
    },
    propertyTimeout(),
  );
});
