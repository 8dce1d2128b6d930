// Benchmark: the well-known service against nginx serving the seed deployment's nginx
// well-known configuration, in one run, on loopback, one core each. See bench/README.md.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMAIN, nginxConfig } from './well-known/nginx-config.ts';
import { cpuSeconds, statusMiB } from './support/proc-stats.ts';
import {
  freePort,
  httpReady,
  requireTool,
  type RunningProcess,
  scriptOptions,
  startProcess,
} from '../test/harness/index.ts';
import { buildService, startDist, startService as startBuilt } from './support/service.ts';
import { runWrk } from './support/wrk.ts';

const opts = scriptOptions({
  duration: 6,
  rounds: 5,
  connections: 64,
  // Node flags for the service instead of its start:dist flags (which the image uses too).
  'node-flags': '',
  // Skips the build (measure what dist/ holds now).
  'no-build': false,
});
const DURATION = opts.duration;
const ROUNDS = opts.rounds;
const CONNECTIONS = opts.connections;
const PATH = '/.well-known/matrix/client';
const SERVER_CORE = '1';

/** Prefix that pins a command to the server core, when taskset exists. */
function pinned(command: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset')
    ? ['/usr/bin/taskset', ['-c', SERVER_CORE, command, ...args]]
    : [command, args];
}

async function startNginx(dir: string, accessLog: boolean): Promise<[RunningProcess, string]> {
  const port = await freePort();
  const conf = join(dir, `nginx-${port}.conf`);
  writeFileSync(conf, nginxConfig(dir, port, accessLog));
  const url = `http://127.0.0.1:${port}${PATH}`;
  const [cmd, args] = pinned(requireTool('nginx'), [
    '-p',
    dir,
    '-e',
    join(dir, 'error.log'),
    '-c',
    conf,
  ]);
  return [await startProcess(cmd, args, { ready: () => httpReady(url) }), url];
}

function flags(): string[] {
  return opts['node-flags'] === ''
    ? startDist('well-known').flags
    : opts['node-flags'].split(' ').filter((f) => f !== '');
}

async function startService(): Promise<[RunningProcess, string, number]> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${PATH}`;
  const { process: proc, readyMs } = await startBuilt(
    'well-known',
    {
      WELL_KNOWN_BIND: `127.0.0.1:${port}`,
      WELL_KNOWN_HOMESERVER_BASE_URL: `https://${DOMAIN}`,
      WELL_KNOWN_LIVEKIT_SERVICE_URLS: `https://${DOMAIN}/livekit-jwt`,
      WELL_KNOWN_SERVER: `${DOMAIN}:443`,
    },
    `http://127.0.0.1:${port}/healthz`,
    flags(),
  );
  return [proc, url, readyMs];
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** Requests answered per second of server CPU time: robust when the machine is shared. */
  perCpuSecond: number;
}

async function measure(
  pid: number,
  url: string,
  duration: number,
  sample?: () => void,
): Promise<Measure> {
  const timer = sample === undefined ? undefined : setInterval(sample, 100);
  const cpu0 = cpuSeconds(pid);
  const r = await runWrk({ url, connections: CONNECTIONS, durationS: duration });
  const cpu = cpuSeconds(pid) - cpu0;
  clearInterval(timer);
  return { perCpuSecond: r.requests / cpu, rps: r.rps, p50: r.p50, p99: r.p99, bad: r.bad };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Median over rounds of `a`'s value divided by `b`'s in the same round (drift cancels out). */
function pairedRatio(a: Measure[], b: Measure[], pick: (m: Measure) => number): number {
  return median(a.map((m, i) => pick(m) / pick(b[i] ?? m)));
}

const dir = mkdtempSync(join(tmpdir(), 'bench-well-known-'));
const running: RunningProcess[] = [];
try {
  const [nginx, nginxUrl] = await startNginx(dir, true);
  const [nginxQuiet, nginxQuietUrl] = await startNginx(dir, false);
  if (!opts['no-build']) buildService('well-known');
  const [service, serviceUrl, readyMs] = await startService();
  const idleRss = statusMiB(service.pid, 'VmRSS');
  const peak = { rss: 0, anon: 0 };
  const sample = (): void => {
    peak.rss = Math.max(peak.rss, statusMiB(service.pid, 'VmRSS'));
    peak.anon = Math.max(peak.anon, statusMiB(service.pid, 'RssAnon'));
  };
  running.push(nginx, nginxQuiet, service);

  const targets: {
    name: string;
    pid: number;
    url: string;
    runs: Measure[];
    sample?: () => void;
  }[] = [
    { name: 'nginx (seed config, access log on)', pid: nginx.pid, url: nginxUrl, runs: [] },
    {
      name: 'nginx (seed config, access log off)',
      pid: nginxQuiet.pid,
      url: nginxQuietUrl,
      runs: [],
    },
    { name: 'well-known service', pid: service.pid, url: serviceUrl, runs: [], sample },
  ];
  console.log(
    `well-known: wrk, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${DURATION} s each, ` +
      `servers pinned to core ${existsSync('/usr/bin/taskset') ? SERVER_CORE : '(no taskset)'}` +
      (flags().length > 0 ? `, service node flags: ${flags().join(' ')}` : ''),
  );
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const t of targets) await measure(t.pid, t.url, 2); // warm-up (JIT, connection pools)
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) t.runs.push(await measure(t.pid, t.url, DURATION, t.sample));
  }

  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.table(
    targets.map((t) => ({
      target: t.name,
      'req/s': Math.round(median(t.runs.map((r) => r.rps))),
      'p50 ms': Number(median(t.runs.map((r) => r.p50)).toFixed(2)),
      'p99 ms': Number(median(t.runs.map((r) => r.p99)).toFixed(2)),
      'req per CPU s': Math.round(median(t.runs.map((r) => r.perCpuSecond))),
      'non-2xx/errors': t.runs.reduce((sum, r) => sum + r.bad, 0),
    })),
  );
  const [seed, quiet, svc] = targets.map((t) => t.runs) as [Measure[], Measure[], Measure[]];
  const rps = (m: Measure): number => m.rps;
  const perCpu = (m: Measure): number => m.perCpuSecond;
  console.log('ratios service/nginx, median of per-round ratios:');
  console.log(`  req/s vs access log on:  ${pairedRatio(svc, seed, rps).toFixed(2)}`);
  console.log(`  req/s vs access log off: ${pairedRatio(svc, quiet, rps).toFixed(2)}`);
  console.log(
    `  req per CPU second vs access log on: ${pairedRatio(svc, seed, perCpu).toFixed(2)}`,
  );
  const hwm = statusMiB(service.pid, 'VmHWM');
  const rss = peak.rss;
  console.log(
    `service: ready ${readyMs.toFixed(0)} ms after spawn; RSS idle after start ${idleRss.toFixed(1)} MiB, peak under load ${rss.toFixed(1)} MiB ` +
      `(of which anonymous ${peak.anon.toFixed(1)} MiB), VmHWM ${hwm.toFixed(1)} MiB`,
  );
  const ok =
    pairedRatio(svc, seed, rps) >= 0.5 &&
    median(svc.map((m) => m.p99)) < 5 &&
    hwm <= 64 &&
    readyMs <= 300 &&
    svc.every((m) => m.bad === 0);
  console.log(
    `targets (>= 0.5 x nginx req/s, p99 < 5 ms, VmHWM <= 64 MiB, ready <= 300 ms): ${ok ? 'met' : 'NOT met'}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await Promise.all(running.map((p) => p.stop(3000)));
  rmSync(dir, { recursive: true, force: true });
}
