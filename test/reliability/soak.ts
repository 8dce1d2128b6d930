// Soak, measured (not a test): both services as processes (their real server.ts) against a
// loopback homeserver process, mixed open-loop traffic at a fixed rate for a fixed time: valid
// token requests and malformed ones (livekit-jwt), transports checks and discovery documents
// (well-known). Run from the repository root:
//   node --conditions=source test/reliability/soak.ts [--minutes 10] [--rps 300] [--dist]
// `--dist` builds the services and runs dist/server.js with the node flags of their `start:dist`
// scripts, as production does (`--node-flags "..."` overrides them, `--node-flags=` for none);
// without it they run from source with no flags. Every `--window-s` it prints one JSON line (requests, errors, p99, each
// service's event-loop lag p99 and RSS from its /metrics, RssAnon from /proc), then a summary
// line. Goal: 0 errors, RSS drift < 10%; the summary gives drift from the RSS before the load and
// from the end of the first window (after warm-up).
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { scriptOptions } from '../harness/index.ts';
import {
  type Outcome,
  latencyQuantile,
  type RequestKind,
  send,
  startHomeserver,
  startService,
  tally,
} from './load-support.ts';

const opts = scriptOptions({
  minutes: 10,
  rps: 300,
  'window-s': 30,
  'timeout-ms': 10_000,
  dist: false,
  'node-flags': 'start:dist',
});
const durationMs = opts.minutes * 60_000;
const rps = opts.rps;
const windowMs = opts['window-s'] * 1000;
const timeoutMs = opts['timeout-ms'];

// The mix, by weight; `bad` is a malformed token request whose right answer is a 400.
const MIX: readonly { kind: RequestKind; service: 'livekit-jwt' | 'well-known'; ok: number }[] = [
  { kind: 'token', service: 'livekit-jwt', ok: 200 },
  { kind: 'token', service: 'livekit-jwt', ok: 200 },
  { kind: 'bad', service: 'livekit-jwt', ok: 400 },
  { kind: 'transports', service: 'well-known', ok: 200 },
  { kind: 'document', service: 'well-known', ok: 200 },
];

const launch = {
  dist: opts.dist,
  ...(opts['node-flags'] === 'start:dist'
    ? {}
    : { nodeFlags: opts['node-flags'].split(' ').filter((f) => f !== '') }),
};
const homeserver = await startHomeserver(0);
const services = {
  'livekit-jwt': await startService('livekit-jwt', homeserver.url, {}, launch),
  'well-known': await startService('well-known', homeserver.url, {}, launch),
};
console.log(
  JSON.stringify({
    from: opts.dist ? 'dist' : 'source',
    nodeFlags: {
      'livekit-jwt': services['livekit-jwt'].nodeFlags.join(' '),
      'well-known': services['well-known'].nodeFlags.join(' '),
    },
  }),
);
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

/** Event-loop lag p99 (ms) and RSS (MiB) from a service's own prom-client metrics, RssAnon from /proc. */
async function probe(service: {
  port: number;
  proc: { pid: number };
}): Promise<{ lagP99Ms: number; rssMiB: number; rssAnonMiB: number }> {
  const text = await (await fetch(`http://127.0.0.1:${String(service.port)}/metrics`)).text();
  const value = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const status = readFileSync(`/proc/${String(service.proc.pid)}/status`, 'utf8');
  const anonKb = Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return {
    lagP99Ms: Math.round(value('nodejs_eventloop_lag_p99_seconds') * 10_000) / 10,
    rssMiB: Math.round(value('process_resident_memory_bytes') / 2 ** 20),
    rssAnonMiB: Math.round(anonKb / 1024),
  };
}

type Probe = Awaited<ReturnType<typeof probe>>;
type ServiceKey = 'livekit-jwt' | 'well-known';

async function probes(): Promise<Record<ServiceKey, Probe>> {
  return {
    'livekit-jwt': await probe(services['livekit-jwt']),
    'well-known': await probe(services['well-known']),
  };
}

interface Tagged extends Outcome {
  readonly good: boolean;
}

const startProbe = await probes();
const all: Tagged[] = [];
let window: Promise<Tagged>[] = [];
const start = performance.now();
let windowStart = start;
let scheduled = 0;
const windows: { p99Ms: number; services: Record<ServiceKey, Probe> }[] = [];

async function closeWindow(): Promise<void> {
  const outcomes = await Promise.all(window);
  window = [];
  all.push(...outcomes);
  const errors = outcomes.filter((o) => !o.good);
  const line = {
    atS: Math.round((performance.now() - start) / 1000),
    requests: outcomes.length,
    errors: errors.length,
    p50Ms: latencyQuantile(outcomes, 0.5),
    p99Ms: latencyQuantile(outcomes, 0.99),
    ...(errors.length > 0
      ? { errorKinds: tally(errors.map((o) => o.error ?? String(o.status))) }
      : {}),
    services: await probes(),
  };
  windows.push(line);
  console.log(JSON.stringify(line));
}

while (performance.now() - start < durationMs) {
  const due = Math.floor(((performance.now() - start) / 1000) * rps);
  for (; scheduled < due; scheduled++) {
    const pick = MIX[scheduled % MIX.length] ?? MIX[0];
    if (pick === undefined) break;
    const at = start + (scheduled / rps) * 1000;
    const port = services[pick.service].port;
    window.push(
      send(agent, port, pick.kind, timeoutMs, at).then((o) => ({
        ...o,
        good: o.status === pick.ok,
      })),
    );
  }
  if (performance.now() - windowStart >= windowMs) {
    windowStart = performance.now();
    await closeWindow();
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await closeWindow();
const endProbe = await probes();
agent.destroy();
await Promise.all([
  services['livekit-jwt'].proc.stop(),
  services['well-known'].proc.stop(),
  homeserver.proc.stop(),
]);

const firstWindow = windows[0]?.services ?? startProbe;
/** RSS growth in % from `from` to the end. */
const drift = (from: Record<ServiceKey, Probe>, name: ServiceKey): number =>
  Math.round((endProbe[name].rssMiB / from[name].rssMiB - 1) * 1000) / 10;
const perService = <T>(f: (name: ServiceKey) => T): Record<ServiceKey, T> => ({
  'livekit-jwt': f('livekit-jwt'),
  'well-known': f('well-known'),
});
console.log(
  JSON.stringify({
    summary: true,
    minutes: opts.minutes,
    rps,
    requests: all.length,
    errors: all.filter((o) => !o.good).length,
    p50Ms: latencyQuantile(all, 0.5),
    p99Ms: latencyQuantile(all, 0.99),
    worstWindowP99Ms: Math.max(...windows.map((w) => w.p99Ms)),
    rssStartMiB: perService((n) => startProbe[n].rssMiB),
    rssAfterFirstWindowMiB: perService((n) => firstWindow[n].rssMiB),
    rssEndMiB: perService((n) => endProbe[n].rssMiB),
    rssAnonStartMiB: perService((n) => startProbe[n].rssAnonMiB),
    rssAnonAfterFirstWindowMiB: perService((n) => firstWindow[n].rssAnonMiB),
    rssAnonEndMiB: perService((n) => endProbe[n].rssAnonMiB),
    rssPeakMiB: perService((n) => Math.max(...windows.map((w) => w.services[n].rssMiB))),
    rssDriftFromStartPercent: perService((n) => drift(startProbe, n)),
    rssDriftFromFirstWindowPercent: perService((n) => drift(firstWindow, n)),
  }),
);
