// Soak, measured (not a test): both services as processes (their real server.ts) against a
// loopback homeserver process, mixed open-loop traffic at a fixed rate for a fixed time: valid
// token requests and malformed ones (livekit-jwt), transports checks and discovery documents
// (well-known). Run from the repository root:
//   node --conditions=source test/reliability/soak.ts [--minutes 10] [--rps 300]
// Every `--window-s` it prints one JSON line (requests, errors, p99, each service's event-loop
// lag p99 and RSS from its /metrics), then a summary line. Goal: 0 errors, RSS drift < 10%.
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

const opts = scriptOptions({ minutes: 10, rps: 300, 'window-s': 30, 'timeout-ms': 10_000 });
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

const homeserver = await startHomeserver(0);
const services = {
  'livekit-jwt': await startService('livekit-jwt', homeserver.url),
  'well-known': await startService('well-known', homeserver.url),
};
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

/** Event-loop lag p99 (ms) and RSS (MiB) from a service's own prom-client metrics. */
async function probe(port: number): Promise<{ lagP99Ms: number; rssMiB: number }> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const value = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    lagP99Ms: Math.round(value('nodejs_eventloop_lag_p99_seconds') * 10_000) / 10,
    rssMiB: Math.round(value('process_resident_memory_bytes') / 2 ** 20),
  };
}

type Probe = Awaited<ReturnType<typeof probe>>;

async function probes(): Promise<Record<'livekit-jwt' | 'well-known', Probe>> {
  return {
    'livekit-jwt': await probe(services['livekit-jwt'].port),
    'well-known': await probe(services['well-known'].port),
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
const windows: unknown[] = [];

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

const drift = (name: 'livekit-jwt' | 'well-known'): number =>
  Math.round((endProbe[name].rssMiB / startProbe[name].rssMiB - 1) * 1000) / 10;
console.log(
  JSON.stringify({
    summary: true,
    minutes: opts.minutes,
    rps,
    requests: all.length,
    errors: all.filter((o) => !o.good).length,
    p99Ms: latencyQuantile(all, 0.99),
    worstWindowP99Ms: Math.max(...windows.map((w) => (w as { p99Ms: number }).p99Ms)),
    rssStartMiB: {
      'livekit-jwt': startProbe['livekit-jwt'].rssMiB,
      'well-known': startProbe['well-known'].rssMiB,
    },
    rssEndMiB: {
      'livekit-jwt': endProbe['livekit-jwt'].rssMiB,
      'well-known': endProbe['well-known'].rssMiB,
    },
    rssDriftPercent: { 'livekit-jwt': drift('livekit-jwt'), 'well-known': drift('well-known') },
  }),
);
