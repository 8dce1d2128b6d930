// Shared by the load scripts (overload-under-load.ts, soak.ts, sigterm-under-load.ts): a loopback
// homeserver, a service started as a process from its real server.ts (or, with `dist`, built and
// started as production runs it), and one request of each kind with its latency.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

const TASKSET = '/usr/bin/taskset';

/** Whether processes can be pinned to cores here (`taskset` exists). */
export const canPin = existsSync(TASKSET);

/**
 * `command args` run on the CPU list `cpus` (taskset syntax, e.g. "1" or "0-1") when taskset
 * exists and `cpus` is given; otherwise unchanged. The load scripts pin the service to one core
 * and the homeserver and load generator to the other, as bench/ does.
 */
export function pinned(
  cpus: string | undefined,
  command: string,
  args: readonly string[],
): [string, string[]] {
  return cpus !== undefined && canPin
    ? [TASKSET, ['-c', cpus, command, ...args]]
    : [command, [...args]];
}

/** Pins this process (the load generator) to the CPU list `cpus`, where taskset exists. */
export function pinSelf(cpus: string): boolean {
  if (!canPin) return false;
  return spawnSync(TASKSET, ['-p', '-c', cpus, String(process.pid)]).status === 0;
}

/**
 * The node flags production runs a service with: those of its `start:dist` script
 * (`node <flags> dist/server.js`), which docker/service.Dockerfile sets as NODE_OPTIONS too.
 */
export function productionNodeFlags(service: ServiceName): string[] {
  const pkg = JSON.parse(
    readFileSync(join(repoRoot, 'services', service, 'package.json'), 'utf8'),
  ) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.['start:dist'] ?? '').split(/\s+/).filter((w) => w !== '');
  if (words[0] !== 'node' || words.at(-1) !== 'dist/server.js') {
    throw new Error(`${service}: start:dist is not "node <flags> dist/server.js"`);
  }
  return words.slice(1, -1);
}

/** The workspace packages each service runs with, in build order. */
const BUILD_ORDER: Record<ServiceName, readonly string[]> = {
  'livekit-jwt': ['packages/config', 'packages/http-kit', 'packages/matrix-openid'],
  'well-known': ['packages/config', 'packages/http-kit'],
};

/** Builds a service and its workspace packages with tsc (as the image does); its dist/server.js. */
export function buildService(service: ServiceName): string {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const pkg of [...BUILD_ORDER[service], `services/${service}`]) {
    const built = spawnSync(
      process.execPath,
      [tsc, '-p', join(repoRoot, pkg, 'tsconfig.build.json')],
      {
        stdio: 'inherit',
      },
    );
    if (built.status !== 0) throw new Error(`building ${pkg} failed`);
  }
  return join(repoRoot, 'services', service, 'dist', 'server.js');
}

/** How a service process is started. */
export interface LaunchOptions {
  /** Build it and run dist/server.js as production does, instead of src/server.ts from source. */
  readonly dist?: boolean;
  /** Node flags; with `dist` the default is {@link productionNodeFlags}, from source none. */
  readonly nodeFlags?: readonly string[];
  /** CPU list to pin the process to (taskset), where taskset exists. */
  readonly cpus?: string;
}

/**
 * A homeserver process that accepts every OpenID token and access token after `delayMs`
 * (userinfo and whoami alike). Its own process, so it does not share the load generator's loop;
 * `cpus` pins it (taskset).
 */
export async function startHomeserver(
  delayMs: number,
  cpus?: string,
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
  const [command, args] = pinned(cpus, process.execPath, ['-e', code]);
  const proc = await startProcess(command, args, {
    ready: () => tcpOpen(port),
  });
  return { url: `http://127.0.0.1:${String(port)}`, proc };
}

/**
 * Starts a service's real `server.ts` on a free loopback port; `extraEnv` overrides defaults;
 * `launch` runs it from dist with production's node flags and/or pins it to cores.
 */
export async function startService(
  service: ServiceName,
  homeserverUrl: string,
  extraEnv: Record<string, string> = {},
  launch: LaunchOptions = {},
): Promise<{ port: number; proc: RunningProcess; nodeFlags: readonly string[] }> {
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
  const nodeFlags = launch.nodeFlags ?? (launch.dist === true ? productionNodeFlags(service) : []);
  const entry =
    launch.dist === true
      ? [buildService(service)]
      : ['--conditions=source', join(repoRoot, 'services', service, 'src', 'server.ts')];
  const [command, args] = pinned(launch.cpus, process.execPath, [...nodeFlags, ...entry]);
  const proc = await startProcess(command, args, {
    env: { ...env, ...extraEnv },
    ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
  });
  return { port, proc, nodeFlags };
}

/** What one request ended as: an HTTP status, or a transport error code. */
export interface Outcome {
  readonly status?: number;
  readonly error?: string;
  readonly ms: number;
  /**
   * Of `ms`, the time before the request could be written: waiting for a free socket in the
   * client's pool and, on a new socket, the TCP connect (accept-queue overflows show here as SYN
   * retransmits of 1 s, 3 s, ...). Undefined if it never got a connected socket.
   */
  readonly connectMs?: number;
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
    let connectMs: number | undefined;
    const done = (outcome: { status?: number; error?: string }): void => {
      resolve({
        ...outcome,
        ms: performance.now() - startedAt,
        ...(connectMs === undefined ? {} : { connectMs }),
      });
    };
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
          done({ status: res.statusCode ?? 0 });
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          done({ error: err.code ?? err.message });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      done({ error: err.code ?? err.message });
    });
    req.on('socket', (socket) => {
      const connected = (): void => {
        connectMs = performance.now() - startedAt;
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
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
