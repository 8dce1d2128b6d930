// Benchmark: POST /get_token of the livekit-jwt service for restricted users (one OpenID
// userinfo lookup over TLS to a loopback homeserver, no SFU call), with wrk, against the
// bare-Node floor doing the same work, rounds interleaved. The service (and the floor) run on
// core 1, wrk and the homeserver on core 0. See bench/README.md.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createSelfSignedCertificate,
  freePort,
  type RunningProcess,
  scriptOptions,
  startProcess,
} from '../test/harness/index.ts';
import { cpuSeconds, statusMiB } from './support/proc-stats.ts';
import {
  buildService,
  LOAD_CORE,
  pinned,
  SERVER_CORE,
  startDist,
  startService,
} from './support/service.ts';
import { runWrk, type WrkRequest, type WrkResult } from './support/wrk.ts';

const opts = scriptOptions({
  duration: 10,
  rounds: 3,
  connections: 32,
  'log-level': 'info',
  // Node flags for the service instead of its start:dist flags (e.g. "--trace-gc ...").
  'node-flags': '',
  // Writes the service's output (logs, --trace-gc lines) to this file at the end.
  'service-output': '',
  // Skips the build (measure what dist/ holds now).
  'no-build': false,
  // Internal: run as the TLS homeserver (own process on core 0), or as the floor on core 1.
  'serve-userinfo': false,
  'serve-floor': false,
  port: 0,
  'hs-port': 0,
  cert: '',
  key: '',
});

const HS = 'hs.bench.example';
const SECRET = 'bench-secret-0123456789abcdef-0123456789';

/** The homeserver: every userinfo request over TLS gets the same user, keep-alive on. */
function serveUserinfo(): void {
  const body = JSON.stringify({ sub: `@bench:${HS}` });
  const server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    if (!req.url?.startsWith('/_matrix/federation/v1/openid/userinfo?')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/**
 * The floor: the least a Node.js process can do per token request (read the body,
 * `JSON.parse`, one keep-alive userinfo call over TLS, one HMAC, answer), with no framework,
 * validation, hashing, logging or metrics. Measured on the same core in the same rounds, it
 * tells how much of a figure is Node and the machine, and how much is the service.
 */
function serveFloor(): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: opts.cert });
  const server = createHttpServer((req, res) => {
    if (req.method !== 'POST') {
      res.end(); // /healthz
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        openid_token: { access_token: string };
      };
      const path = `/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(body.openid_token.access_token)}`;
      request({ host: '127.0.0.1', port: opts['hs-port'], path, agent }, (hsRes) => {
        const parts: Buffer[] = [];
        hsRes.on('data', (c: Buffer) => parts.push(c));
        hsRes.on('end', () => {
          const { sub } = JSON.parse(Buffer.concat(parts).toString()) as { sub: string };
          const jwt = createHmac('sha256', SECRET).update(sub).digest('base64url');
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ url: 'ws://127.0.0.1:9', jwt }));
        });
      }).end();
    });
  });
  server.listen(opts.port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

const BODY = JSON.stringify({
  room_id: '!bench:hs.bench.example',
  slot_id: 'm.call#ROOM',
  openid_token: {
    access_token: 'bench-openid-token',
    token_type: 'Bearer',
    matrix_server_name: HS,
    expires_in: 3600,
  },
  member: { id: 'member-1', claimed_user_id: `@bench:${HS}`, claimed_device_id: 'DEVICE' },
});

/** One wrk run of a target and the target's own CPU time per answered request. */
interface Measure extends WrkResult {
  readonly cpuUs: number;
}

async function measure(pid: number, load: WrkRequest): Promise<Measure> {
  const before = cpuSeconds(pid);
  const result = await runWrk(load);
  const used = cpuSeconds(pid) - before;
  return { ...result, cpuUs: (used * 1e6) / result.requests };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const running: RunningProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-livekit-jwt-'));
  try {
    const tls = await createSelfSignedCertificate({ ips: ['127.0.0.1'] });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, tls.cert);
    const self = fileURLToPath(import.meta.url);
    const [hsCmd, hsArgs] = pinned(LOAD_CORE, process.execPath, [
      self,
      '--serve-userinfo',
      `--cert=${tls.cert}`,
      `--key=${tls.key}`,
    ]);
    const hs = await startProcess(hsCmd, hsArgs);
    running.push(hs);
    const deadline = Date.now() + 10_000;
    while (!/PORT \d+/.test(hs.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const hsPort = /PORT (\d+)/.exec(hs.output())?.[1];
    if (hsPort === undefined) throw new Error(`homeserver did not start:\n${hs.output()}`);

    if (!opts['no-build']) buildService('livekit-jwt');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const flags = opts['node-flags'] === '' ? undefined : opts['node-flags'].split(' ');
    const service = await startService(
      'livekit-jwt',
      {
        // Restricted users never reach the SFU, so nothing needs to listen there.
        LIVEKIT_URL: 'ws://127.0.0.1:9',
        LIVEKIT_KEY: 'benchkey',
        LIVEKIT_SECRET: SECRET,
        LIVEKIT_FULL_ACCESS_HOMESERVERS: 'full.invalid',
        // Verified over TLS, as production does; the test CA is trusted like a real one.
        LIVEKIT_OPENID_OVERRIDES: `${HS}=https://127.0.0.1:${hsPort}`,
        NODE_EXTRA_CA_CERTS: caFile,
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        LIVEKIT_JWT_RATE_LIMIT: '0',
        LIVEKIT_LOG_LEVEL: opts['log-level'],
      },
      `${base}/healthz`,
      flags,
    );
    running.push(service.process);
    const pid = service.process.pid;
    const idle = {
      rss: statusMiB(pid, 'VmRSS'),
      anon: statusMiB(pid, 'RssAnon'),
      hwm: statusMiB(pid, 'VmHWM'),
    };
    const peakAnon = { value: idle.anon };
    const sampler = setInterval(() => {
      peakAnon.value = Math.max(peakAnon.value, statusMiB(pid, 'RssAnon'));
    }, 100);

    const floorPort = await freePort();
    // The floor runs with the service's node flags, so their memory compares like for like.
    const [floorCmd, floorArgs] = pinned(SERVER_CORE, process.execPath, [
      ...(flags ?? startDist('livekit-jwt').flags),
      self,
      '--serve-floor',
      `--port=${floorPort}`,
      `--hs-port=${hsPort}`,
      `--cert=${tls.cert}`,
    ]);
    const floor = await startProcess(floorCmd, floorArgs, {
      ready: async () => (await fetch(`http://127.0.0.1:${floorPort}/`)).ok,
    });
    running.push(floor);

    const post = (url: string, close = false): WrkRequest => ({
      url,
      method: 'POST',
      body: BODY,
      headers: { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) },
      connections: opts.connections,
      durationS: opts.duration,
    });
    const targets = [
      { name: 'service, keep-alive', pid, load: post(`${base}/get_token`), runs: [] as Measure[] },
      {
        name: 'service, one connection per request',
        pid,
        load: post(`${base}/get_token`, true),
        runs: [] as Measure[],
      },
      {
        name: 'bare-Node floor, keep-alive',
        pid: floor.pid,
        load: post(`http://127.0.0.1:${floorPort}/get_token`),
        runs: [] as Measure[],
      },
    ];
    console.log(
      `livekit-jwt POST /get_token (restricted user, userinfo over TLS to a loopback homeserver): ` +
        `wrk, ${opts.connections} connections, ${opts.rounds} interleaved round(s) of ${opts.duration} s, ` +
        `service and floor on core ${SERVER_CORE}, wrk and homeserver on core ${LOAD_CORE}, ` +
        `log level ${opts['log-level']}, node flags "${(flags ?? startDist('livekit-jwt').flags).join(' ')}"`,
    );
    console.log(`load average before: ${load()}`);
    // Warm-up: JIT, the connection pool to the homeserver.
    for (const t of targets) await runWrk({ ...t.load, durationS: 2 });
    for (let round = 0; round < opts.rounds; round++) {
      for (const t of targets) t.runs.push(await measure(t.pid, t.load));
    }
    clearInterval(sampler);
    const hwm = statusMiB(pid, 'VmHWM');
    const floorHwm = statusMiB(floor.pid, 'VmHWM');
    const floorAnon = statusMiB(floor.pid, 'RssAnon');
    console.log(`load average after: ${load()}`);
    console.table(
      targets.map((t) => ({
        target: t.name,
        'req/s': Math.round(median(t.runs.map((r) => r.rps))),
        'p50 ms': Number(median(t.runs.map((r) => r.p50)).toFixed(2)),
        'p99 ms': Number(median(t.runs.map((r) => r.p99)).toFixed(2)),
        'p99/p50': Number(median(t.runs.map((r) => r.p99 / r.p50)).toFixed(1)),
        'CPU µs/req': Math.round(median(t.runs.map((r) => r.cpuUs))),
        'non-2xx/errors': t.runs.reduce((sum, r) => sum + r.bad, 0),
      })),
    );
    const [pooled, , floorRuns] = targets.map((t) => t.runs) as [Measure[], Measure[], Measure[]];
    const cpu = median(pooled.map((r) => r.cpuUs));
    const tail = median(pooled.map((r) => r.p99 / r.p50));
    const perRound = pooled.map(
      (r, i) => `${Math.round(r.cpuUs)}/${Math.round(floorRuns[i]!.cpuUs)}`,
    );
    console.log(`CPU µs per request, service/floor by round: ${perRound.join(', ')}`);
    console.log(
      `service: ready ${service.readyMs.toFixed(0)} ms after spawn; idle VmRSS ${idle.rss.toFixed(1)} MiB ` +
        `(RssAnon ${idle.anon.toFixed(1)}); peak VmHWM ${hwm.toFixed(1)} MiB, peak RssAnon ${peakAnon.value.toFixed(1)} MiB`,
    );
    console.log(
      `bare-Node floor: peak VmHWM ${floorHwm.toFixed(1)} MiB, RssAnon at the end ${floorAnon.toFixed(1)} MiB`,
    );
    const goals = [
      [`VmHWM <= 64 MiB`, hwm <= 64],
      [`CPU <= 70 µs/request`, cpu <= 70],
      [`p99 <= 3 x p50`, tail <= 3],
      [`ready <= 300 ms`, service.readyMs <= 300],
      ['no errors', targets.every((t) => t.runs.every((r) => r.bad === 0))],
    ] as const;
    console.log(
      `goals: ${goals.map(([name, met]) => `${name} ${met ? 'met' : 'NOT met'}`).join('; ')}`,
    );
    process.exitCode = goals.every(([, met]) => met) ? 0 : 1;
    if (opts['service-output'] !== '') {
      await service.process.stop(3000);
      writeFileSync(opts['service-output'], service.process.output());
    }
  } finally {
    await Promise.all(running.map((p) => p.stop(3000)));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (opts['serve-userinfo']) serveUserinfo();
else if (opts['serve-floor']) serveFloor();
else await main();
