// Runs representative traffic through both services with their real pino loggers (most verbose
// level, output captured), plus configuration failures in-process and in the started
// livekit-jwt process, then scans every captured line for every credential used: generated
// LiveKit secrets, Matrix access tokens, OpenID tokens, the JWTs the service minted, and any
// other JWT. The SFU stand-in's error body repeats the request's Authorization header (as some
// proxies' error pages do), which shows whether upstream bodies reach the log unfiltered.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerOptions } from '@rtc-sidecars/http-kit';
import {
  buildApp as buildTokenApp,
  loadServiceConfig,
  verifierOptions,
} from '@rtc-sidecars/livekit-jwt';
import { createOpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildWellKnownApp } from '../../services/well-known/src/build-app.ts';
import { loadWellKnownConfig } from '../../services/well-known/src/config.ts';
import { freePort, httpReady, repoRoot, startProcess } from '../harness/index.ts';
import {
  LogCapture,
  type SecretPeers,
  startSecretPeers,
  type TokenBehaviour,
} from './secret-peers.ts';

/** A signed JWT: base64url JSON header and payload, then a signature. */
const JWT_SHAPE = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

const secret = (): string => randomBytes(24).toString('base64url');

/** Every credential the traffic below uses, by what it is. */
const S = {
  livekitSecret: secret(),
  shortLivekitSecret: randomBytes(8).toString('hex'),
  keyFileSecret: secret(),
  openidFull: secret(),
  openidRemote: secret(),
  openidMismatch: secret(),
  openidEcho: secret(),
  openidHang: secret(),
  openidUnknown: secret(),
  openidDown: secret(),
  openidOversized: `${secret()}${'x'.repeat(5000)}`,
  openidInBadBody: secret(),
  matrixGood: secret(),
  matrixUnknown: secret(),
  matrixSoft: secret(),
  matrixEcho: secret(),
  matrixHang: secret(),
  matrixInQuery: secret(),
  bearerOnTokenPath: secret(),
};
/** JWTs the service answered with, added as they arrive. */
const jwts: string[] = [];
/** Where each captured text came from. */
const captured: { source: string; text: string }[] = [];

const tokens = new Map<string, TokenBehaviour>([
  [S.openidFull, { kind: 'user', sub: '@alice:example.com' }],
  [S.openidRemote, { kind: 'user', sub: '@bob:remote.example.net' }],
  [S.openidMismatch, { kind: 'user', sub: '@mallory:evil.example' }],
  [S.openidEcho, { kind: 'echo' }],
  [S.openidHang, { kind: 'hang' }],
  [S.matrixGood, { kind: 'user', sub: '@alice:example.com' }],
  [S.matrixSoft, { kind: 'soft' }],
  [S.matrixEcho, { kind: 'echo' }],
  [S.matrixHang, { kind: 'hang' }],
]);

let peers: SecretPeers;
let closedPort: number;

beforeAll(async () => {
  peers = await startSecretPeers(tokens);
  closedPort = await freePort();
});

afterAll(async () => {
  await peers.close();
});

function tokenEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LIVEKIT_URL: 'wss://sfu.example.org',
    LIVEKIT_API_URL: peers.url,
    LIVEKIT_KEY: 'APIkey',
    LIVEKIT_SECRET: S.livekitSecret,
    LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
    LIVEKIT_LOG_LEVEL: 'debug',
    LIVEKIT_JWT_RATE_LIMIT: '0',
    LIVEKIT_OPENID_OVERRIDES: [
      `example.com=${peers.url}`,
      `remote.example.net=${peers.url}`,
      `evil.example=${peers.url}`,
      `down.example=http://127.0.0.1:${closedPort}`,
    ].join(','),
    ...extra,
  };
}

function getToken(accessToken: string, server: string): object {
  return {
    room_id: '!room:example.com',
    slot_id: 'm.call#ROOM',
    openid_token: {
      access_token: accessToken,
      matrix_server_name: server,
      token_type: 'Bearer',
      expires_in: 3600,
    },
    member: { id: 'member', claimed_user_id: `@alice:${server}`, claimed_device_id: 'DEVICE' },
  };
}

describe('secrets in logs', () => {
  it('should keep every credential out of livekit-jwt logs, including failures of both upstreams', async () => {
    const logs = new LogCapture();
    const { config } = loadServiceConfig(tokenEnv());
    const verifier = createOpenIdVerifier({ ...verifierOptions(config), totalTimeoutMs: 1500 });
    const app: FastifyInstance = await buildTokenApp({ config, verifier, logStream: logs });
    const post = async (
      url: string,
      payload: string | object,
      headers: Record<string, string> = {},
    ) => {
      const res = await app.inject({ method: 'POST', url, payload, headers });
      const jwt = res.json<{ jwt?: unknown }>().jwt;
      if (typeof jwt === 'string') jwts.push(jwt);
      return res.statusCode;
    };
    const statuses = [
      await post('/get_token', getToken(S.openidFull, 'example.com')),
      await post('/sfu/get', {
        room: '!room:example.com',
        openid_token: { access_token: S.openidRemote, matrix_server_name: 'remote.example.net' },
        device_id: 'DEVICE',
      }),
      await post('/get_token', getToken(S.openidUnknown, 'example.com')),
      await post('/get_token', getToken(S.openidEcho, 'example.com')),
      await post('/get_token', getToken(S.openidMismatch, 'evil.example')),
      await post('/get_token', getToken(S.openidHang, 'example.com')),
      await post('/get_token', getToken(S.openidDown, 'down.example')),
      await post('/get_token', getToken(S.openidOversized, 'example.com')),
      await post('/get_token', { ...getToken(S.openidInBadBody, 'example.com'), extra: true }),
      await post('/get_token', `{"openid_token":{"access_token":"${S.openidInBadBody}"`),
      await post(
        `/get_token?access_token=${S.bearerOnTokenPath}`,
        getToken(S.openidUnknown, 'example.com'),
        {
          authorization: `Bearer ${S.bearerOnTokenPath}`,
        },
      ),
      await post(
        `/nowhere?access_token=${S.bearerOnTokenPath}`,
        {},
        { authorization: `Bearer ${S.bearerOnTokenPath}` },
      ),
    ];
    peers.sfuFails = true;
    statuses.push(await post('/get_token', getToken(S.openidFull, 'example.com')));
    peers.sfuFails = false;
    await app.close();
    captured.push({ source: 'livekit-jwt log', text: logs.text });

    expect(statuses).toEqual([200, 200, 401, 401, 401, 401, 401, 400, 400, 400, 401, 404, 500]);
    expect(jwts).toHaveLength(2);
    // The log says what happened: one line per outcome, so the scan below saw real failures.
    for (const outcome of [
      'ok_full',
      'ok_restricted',
      'openid_rejected',
      'openid_bad_response',
      'claimed_user_mismatch',
      'openid_timeout',
      'openid_unreachable',
      'not_json',
      'room_creation_failed',
    ]) {
      expect(logs.text).toContain(`"outcome":"${outcome}"`);
    }
  }, 30_000);

  it('should keep every credential out of well-known logs at trace level', async () => {
    const logs = new LogCapture();
    const config = loadWellKnownConfig({
      WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
      WELL_KNOWN_HOMESERVER_INTERNAL_URL: peers.url,
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org',
      WELL_KNOWN_WHOAMI_TIMEOUT_MS: '300',
      WELL_KNOWN_LOG_LEVEL: 'trace',
    });
    const app = buildWellKnownApp(config, {
      logger: { ...loggerOptions({ level: 'trace', name: 'well-known' }), stream: logs },
    });
    const get = async (url: string, authorization?: string) => {
      const res = await app.inject({
        method: 'GET',
        url,
        headers: authorization === undefined ? {} : { authorization },
      });
      return res.statusCode;
    };
    const transports = '/_matrix/client/v1/rtc/transports';
    const statuses = [
      await get(transports, `Bearer ${S.matrixGood}`),
      await get(transports, `Bearer ${S.matrixGood}`),
      await get(transports, `Bearer ${S.matrixUnknown}`),
      await get(transports, `Bearer ${S.matrixSoft}`),
      await get(transports, `Bearer ${S.matrixEcho}`),
      await get(transports, `Bearer ${S.matrixHang}`),
      await get(`${transports}?access_token=${S.matrixInQuery}`),
      await get(
        `/.well-known/matrix/client?access_token=${S.matrixInQuery}`,
        `Bearer ${S.matrixUnknown}`,
      ),
      await get(`/nowhere?access_token=${S.matrixInQuery}`, `Bearer ${S.matrixUnknown}`),
    ];
    await app.close();
    captured.push({ source: 'well-known log', text: logs.text });
    expect(statuses).toEqual([200, 200, 401, 401, 502, 504, 401, 200, 404]);
    expect(logs.text.split('\n').length).toBeGreaterThan(10);
  });

  it('should keep secrets out of configuration errors and warnings', () => {
    const attempts: [string, Record<string, string>, (path: string) => string][] = [
      [
        'missing LIVEKIT_URL',
        {
          LIVEKIT_SECRET: S.livekitSecret,
          LIVEKIT_KEY: 'k',
          LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
        },
        () => '',
      ],
      [
        'malformed key file',
        {
          LIVEKIT_URL: 'wss://x.example',
          LIVEKIT_KEY_FILE: '/keys',
          LIVEKIT_FULL_ACCESS_HOMESERVERS: 'x',
        },
        () => `APIkey: ${S.keyFileSecret}: extra`,
      ],
      [
        'bad port next to a secret',
        { ...tokenEnv(), LIVEKIT_JWT_BIND: 'nonsense', LIVEKIT_JWT_PORT: 'x' },
        () => '',
      ],
      ['short secret', { ...tokenEnv(), LIVEKIT_SECRET: S.shortLivekitSecret }, () => ''],
    ];
    for (const [label, env, readFile] of attempts) {
      try {
        const { warnings } = loadServiceConfig(env, readFile);
        captured.push({ source: `config warnings (${label})`, text: warnings.join('\n') });
      } catch (err) {
        expect((err as Error).name).toBe('ConfigError');
        captured.push({ source: `config error (${label})`, text: (err as Error).message });
      }
    }
    expect(captured.filter((c) => c.source.startsWith('config error'))).toHaveLength(3);
  });

  it('should keep secrets out of the started process output (bad key file, then start-up and a refused token)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const server = join(repoRoot, 'services', 'livekit-jwt', 'src', 'server.ts');
    try {
      writeFileSync(join(dir, 'keys'), `APIkey: ${S.keyFileSecret}: extra\n`);
      const bad = await startProcess(process.execPath, ['--conditions=source', server], {
        env: {
          ...tokenEnv(),
          LIVEKIT_SECRET: '',
          LIVEKIT_KEY: '',
          LIVEKIT_KEY_FILE: join(dir, 'keys'),
        },
      });
      expect(await bad.exited).toBe(1);
      captured.push({ source: 'process with a bad key file', text: bad.output() });

      const port = await freePort();
      const good = await startProcess(process.execPath, ['--conditions=source', server], {
        env: {
          ...tokenEnv(),
          LIVEKIT_SECRET: S.shortLivekitSecret,
          LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        },
        ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
      });
      const res = await fetch(`http://127.0.0.1:${port}/get_token`, {
        method: 'POST',
        body: JSON.stringify(getToken(S.openidUnknown, 'example.com')),
      });
      expect(res.status).toBe(401);
      expect(await good.stop()).toBe(0);
      captured.push({ source: 'started process', text: good.output() });
      expect(good.output()).toContain('openid_rejected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('should find none of the credentials in any captured line', () => {
    const needles: [string, string][] = [
      ...Object.entries(S).map(([name, value]): [string, string] => [name, value.slice(0, 32)]),
      // Payload and signature of each minted JWT (the header is the same for every HS256 token).
      ...jwts.flatMap((jwt, i): [string, string][] => {
        const [, payload = '', signature = ''] = jwt.split('.');
        return [
          [`jwt ${i} payload`, payload],
          [`jwt ${i} signature`, signature],
        ];
      }),
    ];
    expect(captured.length).toBe(8);
    const hits: string[] = [];
    let lines = 0;
    for (const { source, text } of captured) {
      for (const [index, line] of text.split('\n').entries()) {
        lines++;
        for (const [name, needle] of needles) {
          if (needle !== '' && line.includes(needle))
            hits.push(`${name} in ${source}, line ${index + 1}: ${line.slice(0, 300)}`);
        }
        // Any JWT at all, such as the service's own roomCreate token, which no test variable holds.
        const jwt = JWT_SHAPE.exec(line)?.[0];
        if (jwt !== undefined)
          hits.push(
            `a JWT in ${source}, line ${index + 1}: …${line.slice(Math.max(0, line.indexOf(jwt) - 120), line.indexOf(jwt) + 40)}…`,
          );
      }
    }
    console.log(
      `[secrets] scanned ${lines} lines from ${captured.length} sources for ${needles.length} credentials: ${hits.length} hits`,
    );
    expect(hits).toEqual([]);
  });
});
