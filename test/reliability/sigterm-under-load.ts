// SIGTERM under load, measured (not a test): starts a service as a process, drives it with
// concurrent keep-alive clients whose requests each wait ~100 ms on a loopback homeserver, sends
// SIGTERM mid-load, and counts what the clients saw. Run from the repository root:
//   node --conditions=source test/reliability/sigterm-under-load.ts [--service well-known] [--concurrency 64]
// Prints one JSON line. Goal: no failed request apart from refused connects, exit 0 within the
// 10 s grace period.
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, httpReady, repoRoot, startProcess } from '../harness/index.ts';

const { values: opts } = parseArgs({
  options: {
    service: { type: 'string', default: 'livekit-jwt' },
    concurrency: { type: 'string', default: '64' },
    'load-ms': { type: 'string', default: '2000' },
    'upstream-ms': { type: 'string', default: '100' },
  },
});
const service = opts.service === 'well-known' ? 'well-known' : 'livekit-jwt';
const concurrency = Number(opts.concurrency);
const upstreamMs = Number(opts['upstream-ms']);

// The homeserver: userinfo and whoami both accept after a delay, so requests are in flight.
const homeserver = createServer((_req, res) => {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sub: '@alice:remote.example', user_id: '@alice:remote.example' }));
  }, upstreamMs);
});
await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
const hs = `http://127.0.0.1:${(homeserver.address() as AddressInfo).port}`;

const port = await freePort();
const env: Record<string, string> =
  service === 'livekit-jwt'
    ? {
        LIVEKIT_URL: 'wss://sfu.example.org',
        LIVEKIT_KEY: 'key',
        LIVEKIT_SECRET: randomBytes(32).toString('base64url'),
        LIVEKIT_FULL_ACCESS_HOMESERVERS: 'example.com',
        LIVEKIT_OPENID_OVERRIDES: `remote.example=${hs}`,
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        LIVEKIT_JWT_RATE_LIMIT: '0',
        LIVEKIT_LOG_LEVEL: 'warn',
      }
    : {
        WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
        WELL_KNOWN_HOMESERVER_INTERNAL_URL: hs,
        WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://livekit.example.org',
        WELL_KNOWN_BIND: `127.0.0.1:${port}`,
        WELL_KNOWN_WHOAMI_CACHE_SECONDS: '0',
        WELL_KNOWN_LOG_LEVEL: 'warn',
      };
const proc = await startProcess(
  process.execPath,
  ['--conditions=source', join(repoRoot, 'services', service, 'src', 'server.ts')],
  { env, ready: () => httpReady(`http://127.0.0.1:${port}/healthz`) },
);

const body = JSON.stringify({
  room: '!room:example.com',
  openid_token: { access_token: 'token', matrix_server_name: 'remote.example' },
  device_id: 'DEVICE',
});
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const counts = { ok: 0, wrongStatus: 0, failed: 0, refused: 0, okAfterSigterm: 0 };
const failures = new Map<string, number>();
const wrong = new Map<string, number>();
let inFlight = 0;
let sigtermAt = 0;

function once(): Promise<'ok' | 'refused' | 'failed'> {
  return new Promise((resolve) => {
    inFlight++;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        ...(service === 'livekit-jwt'
          ? { method: 'POST', path: '/sfu/get', headers: { 'content-type': 'application/json' } }
          : {
              method: 'GET',
              path: '/_matrix/client/v1/rtc/transports',
              headers: { authorization: 'Bearer t' },
            }),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          inFlight--;
          if (res.statusCode === 200) {
            counts.ok++;
            if (sigtermAt > 0) counts.okAfterSigterm++;
          } else {
            counts.wrongStatus++;
            const key = `${String(res.statusCode)} ${text.slice(0, 100)}`;
            wrong.set(key, (wrong.get(key) ?? 0) + 1);
          }
          resolve('ok');
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      inFlight--;
      if (err.code === 'ECONNREFUSED') {
        counts.refused++;
        resolve('refused');
      } else {
        counts.failed++;
        const key = err.code ?? err.message;
        failures.set(key, (failures.get(key) ?? 0) + 1);
        resolve('failed');
      }
    });
    if (service === 'livekit-jwt') req.end(body);
    else req.end();
  });
}

async function client(): Promise<void> {
  // Each client sends until its connect is refused (the listener is closed).
  for (;;) if ((await once()) === 'refused') return;
}

const clients = Array.from({ length: concurrency }, () => client());
await new Promise((resolve) => setTimeout(resolve, Number(opts['load-ms'])));
const before = counts.ok;
const inFlightAtSigterm = inFlight;
sigtermAt = performance.now();
proc.child.kill('SIGTERM');
const exitCode = await proc.exited;
const exitMs = performance.now() - sigtermAt;
await Promise.all(clients);
agent.destroy();
homeserver.closeAllConnections();
homeserver.close();

console.log(
  JSON.stringify({
    service,
    concurrency,
    upstreamMs,
    okBeforeSigterm: before,
    inFlightAtSigterm,
    okAfterSigterm: counts.okAfterSigterm,
    wrongStatus: counts.wrongStatus,
    wrongAnswers: Object.fromEntries(wrong),
    failed: counts.failed,
    failures: Object.fromEntries(failures),
    refusedConnects: counts.refused,
    exitCode,
    exitMs: Math.round(exitMs),
  }),
);
