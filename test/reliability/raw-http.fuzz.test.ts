// The generated requests of the inject() properties, sent as raw bytes over real sockets with
// headers duplicated at random and Host sometimes missing or doubled, so Node's parser and
// well-known's pre-rendered fast path (which inject() bypasses) are covered too.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '@rtc-sidecars/livekit-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildWellKnownApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { RecordingVerifier } from './fake-peers.ts';
import { assertProperty, FUZZ_RUNS, FuzzStats, propertyTimeout } from './fuzz-support.ts';
import { headersArbitrary, methodArbitrary, pathArbitrary } from './http-arbitraries.ts';
import { listenOnLoopback, livekitJwtConfig } from './in-process-apps.ts';
import { rawRequest } from './raw-http.ts';

const KNOWN: Record<string, readonly string[]> = {
  'livekit-jwt': ['/get_token', '/sfu/get', '/healthz', '/metrics'],
  'well-known': [
    '/.well-known/matrix/client',
    '/.well-known/matrix/server',
    '/_matrix/client/v1/rtc/transports',
    '/healthz',
  ],
};
const apps: Record<string, FastifyInstance> = {};
let ports: Record<string, number> = {};
const stats: Record<string, FuzzStats> = {
  'livekit-jwt': new FuzzStats('livekit-jwt raw HTTP'),
  'well-known': new FuzzStats('well-known raw HTTP'),
};

beforeAll(async () => {
  apps['livekit-jwt'] = await buildApp({
    // Generating cases blocks this process's event loop; shedding is tested in overload.test.ts.
    config: livekitJwtConfig({ LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS: '0' }),
    verifier: new RecordingVerifier(),
    logStream: false,
  });
  apps['well-known'] = buildWellKnownApp(
    loadWellKnownConfig({
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
      WELL_KNOWN_SERVER: 'matrix.example.org:443',
      // Nothing listens here: a transports check that got this far answers 502, which the
      // property would report, so bearer tokens are left out of the generated headers below.
      WELL_KNOWN_HOMESERVER_INTERNAL_URL: 'http://127.0.0.1:9',
      WELL_KNOWN_LOG_LEVEL: 'silent',
      WELL_KNOWN_MAX_EVENT_LOOP_DELAY_MS: '0',
    }),
  );
  ports = await listenOnLoopback(apps);
});

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app.close()));
  for (const s of Object.values(stats)) console.log(s.summary());
});

/** Anything outside visible ASCII in a request target is percent-encoded, as on the wire. */
function wireTarget(path: string): string {
  return path.replace(/[^\x21-\x7e]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

describe.each(['livekit-jwt', 'well-known'])('%s over raw sockets', (service) => {
  it(
    'should answer generated requests with duplicated and missing headers without a 5xx, with Matrix errors and CORS',
    async () => {
      const s = stats[service] as FuzzStats;
      const runs = Math.max(50, Math.floor(FUZZ_RUNS / 2));
      await assertProperty(
        fc.asyncProperty(
          methodArbitrary,
          pathArbitrary(KNOWN[service] ?? []),
          headersArbitrary.map(({ authorization, ...rest }) =>
            service === 'well-known' && /^bearer +\S/i.test(authorization ?? '')
              ? rest
              : { authorization, ...rest },
          ),
          fc.nat({ max: 5 }),
          fc.constantFrom(0, 1, 1, 1, 1, 1, 1, 2),
          fc.option(fc.uint8Array({ maxLength: 512 })),
          fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
          async (method, path, headers, duplicate, hosts, body, keep) => {
            // Framing and size errors are mostly left to raw-http.test.ts, so most cases get past
            // the parser: each generated header goes out half the time, and Transfer-Encoding and
            // values over 2 000 characters one time in six.
            const keepAwkward = duplicate === 0;
            const lines = Object.entries(headers)
              .filter(
                (entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'host',
              )
              .filter((_entry, i) => keep[i] === true)
              .filter(
                ([name, value]) =>
                  keepAwkward || (name !== 'transfer-encoding' && value.length <= 2000),
              )
              .map(([name, value]) => `${name}: ${value}`);
            // Repeat one header (Node keeps the first of some, joins others).
            if (lines.length > 0) lines.push(lines[duplicate % lines.length] as string);
            for (let i = 0; i < hosts; i++)
              lines.push(`Host: ${i === 0 ? 'example.org' : 'other.example'}`);
            const payload = body === null ? Buffer.alloc(0) : Buffer.from(body);
            if (body !== null) lines.push(`Content-Length: ${payload.length}`);
            const head = `${[`${method} ${wireTarget(path)} HTTP/1.1`, ...lines, 'Connection: close'].join('\r\n')}\r\n\r\n`;
            const started = performance.now();
            const res = await rawRequest(
              ports[service] as number,
              Buffer.concat([Buffer.from(head, 'latin1'), payload]),
            );
            s.record(res.status, performance.now() - started);
            const context = `${head.slice(0, 400)} → ${res.status} ${JSON.stringify(res.headers).slice(0, 300)} ${res.body.slice(0, 200)}`;
            expect(res.status, context).toBeGreaterThanOrEqual(200);
            expect(res.status, context).toBeLessThan(500);
            // Node answers a request without exactly one Host itself, before any handler.
            if (hosts !== 1 && res.status === 400 && res.body === '') return;
            if (res.status >= 400 && method !== 'HEAD') {
              expect(res.body, context).toMatch(/^\{.*"errcode":"M_[A-Z_]+".*"error":".*\}$/);
            }
            const path0 = path.split('?', 1)[0] ?? '';
            const promised =
              service === 'well-known' ||
              ['/get_token', '/sfu/get'].includes(path0) ||
              res.status === 404 ||
              res.status === 405 ||
              res.status === 400 ||
              res.status === 431;
            if (promised) expect(res.headers['access-control-allow-origin'], context).toBe('*');
          },
        ),
        runs,
      );
      expect(s.cases).toBeGreaterThanOrEqual(runs);
    },
    propertyTimeout(FUZZ_RUNS * 2),
  );
});
