// SIGTERM under load, measured (not a test): starts a service as a process, drives it with
// concurrent keep-alive clients whose requests each wait ~100 ms on a loopback homeserver, sends
// SIGTERM mid-load, and counts what the clients saw. Run from the repository root:
//   node --conditions=source test/reliability/sigterm-under-load.ts [--service well-known] [--concurrency 64]
// Prints one JSON line. Goal: no failed request apart from refused connects, exit 0 within the
// 10 s grace period.
import { Agent, request } from 'node:http';
import { scriptOptions } from '../harness/index.ts';
import { serviceName, startHomeserver, startService, TOKEN_BODY } from './load-support.ts';

const opts = scriptOptions({
  service: 'livekit-jwt',
  concurrency: 64,
  'load-ms': 2000,
  'upstream-ms': 100,
});
const service = serviceName(opts.service);
const concurrency = opts.concurrency;
const upstreamMs = opts['upstream-ms'];

// The homeserver accepts userinfo and whoami after a delay, so requests are in flight at SIGTERM.
const homeserver = await startHomeserver(upstreamMs);
const { port, proc } = await startService(service, homeserver.url);

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
    if (service === 'livekit-jwt') req.end(TOKEN_BODY);
    else req.end();
  });
}

async function client(): Promise<void> {
  // Each client sends until its connect is refused (the listener is closed).
  for (;;) if ((await once()) === 'refused') return;
}

const clients = Array.from({ length: concurrency }, () => client());
await new Promise((resolve) => setTimeout(resolve, opts['load-ms']));
const before = counts.ok;
const inFlightAtSigterm = inFlight;
sigtermAt = performance.now();
proc.child.kill('SIGTERM');
const exitCode = await proc.exited;
const exitMs = performance.now() - sigtermAt;
await Promise.all(clients);
agent.destroy();
await homeserver.proc.stop();

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
