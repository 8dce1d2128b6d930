// Shared by the load scripts (overload-under-load.ts, soak.ts, sigterm-under-load.ts): a loopback
// homeserver, a service started as a process from its real server.ts, and one request of each
// kind with its latency.
import { randomBytes } from 'node:crypto';
import { type Agent, request } from 'node:http';
import { join } from 'node:path';
import {
  freePort,
  httpReady,
  repoRoot,
  type RunningProcess,
  startProcess,
  tcpOpen,
} from '../harness/index.ts';

/** The two services the scripts can drive. */
export type ServiceName = 'livekit-jwt' | 'well-known';

/** The `--service` option, checked: a misspelt name stops the run instead of measuring the other. */
export function serviceName(value: string): ServiceName {
  if (value === 'livekit-jwt' || value === 'well-known') return value;
  throw new Error(`--service wants livekit-jwt or well-known, got "${value}"`);
}

/**
 * A homeserver process that accepts every OpenID token and access token after `delayMs`
 * (userinfo and whoami alike). Its own process, so it does not share the load generator's loop.
 */
export async function startHomeserver(
  delayMs: number,
): Promise<{ url: string; proc: RunningProcess }> {
  const port = await freePort();
  const code = `
    const body = JSON.stringify({ sub: '@alice:remote.example', user_id: '@alice:remote.example' });
    const server = require('node:http').createServer((_req, res) => {
      const answer = () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); };
      if (${String(delayMs)} > 0) setTimeout(answer, ${String(delayMs)}); else answer();
    });
    server.keepAliveTimeout = 60000;
    server.listen(${String(port)}, '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));`;
  const proc = await startProcess(process.execPath, ['-e', code], {
    ready: () => tcpOpen(port),
  });
  return { url: `http://127.0.0.1:${String(port)}`, proc };
}

/** Starts a service's real `server.ts` on a free loopback port; `extraEnv` overrides defaults. */
export async function startService(
  service: ServiceName,
  homeserverUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ port: number; proc: RunningProcess }> {
  const port = await freePort();
  const env: Record<string, string> =
    service === 'livekit-jwt'
      ? {
          LIVEKIT_URL: 'wss://sfu.example.org',
          LIVEKIT_KEY: 'key',
          LIVEKIT_SECRET: randomBytes(32).toString('base64url'),
          LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
          LIVEKIT_OPENID_OVERRIDES: `remote.example=${homeserverUrl}`,
          LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
          LIVEKIT_JWT_RATE_LIMIT: '0',
          LIVEKIT_LOG_LEVEL: 'warn',
        }
      : {
          WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
          WELL_KNOWN_HOMESERVER_INTERNAL_URL: homeserverUrl,
          WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org',
          WELL_KNOWN_BIND: `127.0.0.1:${port}`,
          WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0',
          WELL_KNOWN_LOG_LEVEL: 'warn',
        };
  const proc = await startProcess(
    process.execPath,
    ['--conditions=source', join(repoRoot, 'services', service, 'src', 'server.ts')],
    {
      env: { ...env, ...extraEnv },
      ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
    },
  );
  return { port, proc };
}

/** What one request ended as: an HTTP status, or a transport error code. */
export interface Outcome {
  readonly status?: number;
  readonly error?: string;
  readonly ms: number;
}

/** The requests the scripts send (each needs a homeserver call when valid, except `document`). */
export type RequestKind = 'token' | 'transports' | 'document' | 'bad';

/** A valid legacy `/sfu/get` request body for a user of the loopback homeserver. */
export const TOKEN_BODY = JSON.stringify({
  room: '!room:example.com',
  openid_token: { access_token: 'token', matrix_server_name: 'remote.example' },
  device_id: 'DEVICE',
});

/** Sends one request of `kind` to `127.0.0.1:port`; never rejects. `timeoutMs` bounds it. */
export function send(
  agent: Agent,
  port: number,
  kind: RequestKind,
  timeoutMs: number,
  startedAt: number = performance.now(),
): Promise<Outcome> {
  const target =
    kind === 'token'
      ? { method: 'POST', path: '/sfu/get', body: TOKEN_BODY }
      : kind === 'transports'
        ? { method: 'GET', path: '/_matrix/client/v1/rtc/transports' }
        : kind === 'document'
          ? { method: 'GET', path: '/.well-known/matrix/client' }
          : { method: 'POST', path: '/sfu/get', body: '{"room":' };
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: target.method,
        path: target.path,
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          ...(kind === 'transports' ? { authorization: 'Bearer token' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - startedAt });
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          resolve({ error: err.code ?? err.message, ms: performance.now() - startedAt });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ error: err.code ?? err.message, ms: performance.now() - startedAt });
    });
    req.end(target.body);
  });
}

/** The q-quantile (0–1) of `values`, rounded to 0.1 ms; 0 for none. */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return Math.round(value * 10) / 10;
}

/** The q-quantile (0–1) of the outcomes' latencies in ms, as {@link quantile} rounds it. */
export function latencyQuantile(outcomes: readonly Outcome[], q: number): number {
  return quantile(
    outcomes.map((o) => o.ms),
    q,
  );
}

/** Counts values by key, e.g. statuses or error codes. */
export function tally(keys: Iterable<string | number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[String(key)] = (counts[String(key)] ?? 0) + 1;
  return counts;
}
