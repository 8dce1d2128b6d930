// Benchmark: POST /get_token of the livekit-jwt service for restricted users (OpenID lookup
// against a loopback homeserver, no SFU call), pooled connections and one connection per
// request. The service is pinned to one core, the homeserver and the load generator share the
// other. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  freePort,
  httpReady,
  repoRoot,
  type RunningProcess,
  scriptOptions,
  startProcess,
} from '../test/harness/index.ts';

const opts = scriptOptions({
  duration: 10,
  rounds: 2,
  connections: 32,
  'log-level': 'info',
  // Node flags for the service; the default is what its start:dist script uses.
  'node-flags': '--max-semi-space-size=4 --max-old-space-size=96',
  // Internal: run as the fake homeserver (a separate process, so it gets its own core).
  'serve-userinfo': false,
  // Internal: run the calibration floor (see serveBaseline) on --port, homeserver on --hs-port.
  'serve-baseline': false,
  port: 0,
  'hs-port': 0,
});

const HS = 'hs.bench.example';
const SERVICE_CORE = '1';
const OTHER_CORE = '0';

/** The fake homeserver: answers every userinfo request with the same user, keep-alive on. */
function serveUserinfo(): void {
  const body = JSON.stringify({ sub: `@bench:${HS}` });
  const server = createServer((req, res) => {
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
 * Calibration floor: the least a Node.js process can do per token request (read the body,
 * `JSON.parse`, one keep-alive userinfo call, one HMAC, answer), with no framework, validation,
 * hashing, logging or metrics. Measured on the same core as the service, it tells how much of
 * the figures is this machine and how much is the service.
 */
function serveBaseline(): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.end(); // readiness probe
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
          const jwt = createHmac('sha256', 'secret').update(sub).digest('base64url');
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

/** Runs `command` on `core` with taskset when the machine has it. */
function pinned(core: string, command: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset')
    ? ['/usr/bin/taskset', ['-c', core, command, ...args]]
    : [command, args];
}

/** Builds the service and its workspace dependencies, as production runs them (`start:dist`). */
function buildService(): string {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const packages = ['packages/config', 'packages/http-kit', 'packages/matrix-openid'];
  for (const pkg of [...packages, 'services/livekit-jwt']) {
    const built = spawnSync(
      process.execPath,
      [tsc, '-p', join(repoRoot, pkg, 'tsconfig.build.json')],
      {
        stdio: 'inherit',
      },
    );
    if (built.status !== 0) throw new Error(`building ${pkg} failed`);
  }
  return join(repoRoot, 'services', 'livekit-jwt', 'dist', 'server.js');
}

/** One field of /proc/<pid>/status (VmHWM, VmRSS…), in MiB. */
function statusMiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** Service CPU time (user + system) per answered request, in microseconds. */
  cpuUs: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) are utime and stime in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `fn` and charges the service's CPU time to the requests it answered. */
async function withCpu(
  pid: number,
  fn: () => Promise<Omit<Measure, 'cpuUs'> & { total: number }>,
): Promise<Measure> {
  const before = cpuSeconds(pid);
  const m = await fn();
  const used = cpuSeconds(pid) - before;
  return { rps: m.rps, p50: m.p50, p99: m.p99, bad: m.bad, cpuUs: (used * 1e6) / m.total };
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

/** Pooled keep-alive connections, driven by autocannon. */
async function measurePooled(
  url: string,
  duration: number,
): Promise<Omit<Measure, 'cpuUs'> & { total: number }> {
  const r = await autocannon({
    url,
    method: 'POST',
    connections: opts.connections,
    duration,
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.errors + r.timeouts + r.non2xx,
    total: r.requests.total,
  };
}

/**
 * A fresh TCP connection for every request (`agent: false`, `Connection: close`), as browsers
 * that do not reuse connections would send them. autocannon's `reconnectRate: 1` fails on this
 * machine, so this loop drives the same number of concurrent clients with node:http.
 */
async function measurePerRequest(
  url: string,
  duration: number,
): Promise<Omit<Measure, 'cpuUs'> & { total: number }> {
  const latencies: number[] = [];
  let bad = 0;
  const deadline = Date.now() + duration * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', connection: 'close' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            if (res.statusCode !== 200) bad++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        bad++;
        resolve();
      });
      req.end(BODY);
    });
  const client = async (): Promise<void> => {
    while (Date.now() < deadline) await one();
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: opts.connections }, client));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return {
    rps: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    bad,
    total: latencies.length,
  };
}

/** Mean of each figure over the rounds; errors are summed. */
function average(runs: Measure[]): Measure {
  const mean = (f: (m: Measure) => number): number =>
    runs.reduce((a, m) => a + f(m), 0) / runs.length;
  return {
    rps: mean((m) => m.rps),
    p50: mean((m) => m.p50),
    p99: mean((m) => m.p99),
    bad: runs.reduce((a, m) => a + m.bad, 0),
    cpuUs: mean((m) => m.cpuUs),
  };
}

async function main(): Promise<void> {
  const running: RunningProcess[] = [];
  try {
    const [hsCmd, hsArgs] = pinned(OTHER_CORE, process.execPath, [
      fileURLToPath(import.meta.url),
      '--serve-userinfo',
    ]);
    const hs = await startProcess(hsCmd, hsArgs);
    running.push(hs);
    let hsPort: string | undefined;
    for (let i = 0; i < 100 && hsPort === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      hsPort = /PORT (\d+)/.exec(hs.output())?.[1];
    }
    if (hsPort === undefined) throw new Error(`fake homeserver did not start:\n${hs.output()}`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const flags = opts['node-flags'].split(' ').filter((f) => f !== '');
    const [cmd, args] = pinned(SERVICE_CORE, process.execPath, [...flags, buildService()]);
    const started = Date.now();
    const service = await startProcess(cmd, args, {
      env: {
        // Restricted users never reach the SFU, so nothing needs to listen there.
        LIVEKIT_URL: 'ws://127.0.0.1:9',
        LIVEKIT_KEY: 'benchkey',
        LIVEKIT_SECRET: 'bench-secret-0123456789abcdef-0123456789',
        LIVEKIT_FULL_ACCESS_HOMESERVERS: 'full.invalid',
        LIVEKIT_OPENID_OVERRIDES: `${HS}=http://127.0.0.1:${hsPort}`,
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        LIVEKIT_JWT_RATE_LIMIT: '0',
        LIVEKIT_LOG_LEVEL: opts['log-level'],
      },
      ready: () => httpReady(`${base}/healthz`),
    });
    const readyMs = Date.now() - started;
    running.push(service);
    const idle = statusMiB(service.pid, 'VmRSS');
    const peakAnon = { value: statusMiB(service.pid, 'RssAnon') };
    const sampler = setInterval(() => {
      peakAnon.value = Math.max(peakAnon.value, statusMiB(service.pid, 'RssAnon'));
    }, 100);

    const url = `${base}/get_token`;
    const duration = opts.duration;
    console.log(
      `livekit-jwt /get_token (restricted user, loopback homeserver): ${opts.connections} connections, ` +
        `${opts.rounds} round(s) of ${duration} s per mode, service on core ${SERVICE_CORE}, log level ${opts['log-level']}, ` +
        `node flags "${opts['node-flags']}"`,
    );
    const loadBefore = loadavg()[0] ?? NaN;
    await measurePooled(url, 2); // warm-up: JIT, connection pool to the homeserver
    const pooledRuns: Measure[] = [];
    const perRequestRuns: Measure[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      pooledRuns.push(await withCpu(service.pid, () => measurePooled(url, duration)));
      perRequestRuns.push(await withCpu(service.pid, () => measurePerRequest(url, duration)));
    }
    const pooled = average(pooledRuns);
    const perRequest = average(perRequestRuns);
    const hwm = statusMiB(service.pid, 'VmHWM');
    clearInterval(sampler);
    await service.stop(3000);

    const floorPort = await freePort();
    const [floorCmd, floorArgs] = pinned(SERVICE_CORE, process.execPath, [
      fileURLToPath(import.meta.url),
      '--serve-baseline',
      `--port=${floorPort}`,
      `--hs-port=${hsPort}`,
    ]);
    const floor = await startProcess(floorCmd, floorArgs, {
      ready: () => httpReady(`http://127.0.0.1:${floorPort}/`),
    });
    running.push(floor);
    const floorUrl = `http://127.0.0.1:${floorPort}/get_token`;
    await measurePooled(floorUrl, 2);
    const floorPooled = await withCpu(floor.pid, () => measurePooled(floorUrl, duration));

    const row = (mode: string, m: Measure) => ({
      mode,
      'req/s': Math.round(m.rps),
      'p50 ms': Number(m.p50.toFixed(1)),
      'p99 ms': Number(m.p99.toFixed(1)),
      'non-2xx/errors': m.bad,
      'service CPU µs/req': Math.round(m.cpuUs),
      // What one core could serve if the service had it to itself (the machine may be shared).
      'req/s per busy core': Math.round(1e6 / m.cpuUs),
    });
    console.table([
      row('pooled (keep-alive)', pooled),
      row('one connection per request', perRequest),
      row('calibration floor, pooled (bare node:http)', floorPooled),
    ]);
    console.log(
      `service: ready ${readyMs} ms after spawn, RSS idle ${idle.toFixed(1)} MiB, ` +
        `peak (VmHWM) ${hwm.toFixed(1)} MiB, of which anonymous (peak RssAnon) ${peakAnon.value.toFixed(1)} MiB`,
    );
    console.log(
      `1-minute load average: ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? NaN).toFixed(2)} after ` +
        `(2 cores; above ~2 the machine is shared and wall-clock figures understate the service)`,
    );
    const ok =
      pooled.rps >= 2000 && pooled.p99 < 20 && hwm < 64 && pooled.bad + perRequest.bad === 0;
    console.log(
      `targets (pooled >= 2000 req/s, p99 < 20 ms, < 64 MiB, no errors): ${ok ? 'met' : 'NOT met'}`,
    );
    process.exitCode = ok ? 0 : 1;
  } finally {
    await Promise.all(running.map((p) => p.stop(3000)));
  }
}

if (opts['serve-userinfo']) serveUserinfo();
else if (opts['serve-baseline']) serveBaseline();
else await main();
