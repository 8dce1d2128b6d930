// Overload, measured (not a test): starts a service as a process (its real server.ts) against a
// loopback homeserver, finds its capacity with closed-loop clients, then offers `--factor` times
// that rate open-loop (requests leave on schedule whatever the answers) and counts what the
// clients saw. Run from the repository root:
//   node --conditions=source test/reliability/overload-under-load.ts [--service well-known]
// `--max-delay-ms 0 --max-in-flight 0` turns shedding off for comparison. Prints one JSON line. Goal: the excess is
// shed with 503/429, admitted requests keep a bounded latency, nothing else fails.
// `--dist` runs the service built, with its `start:dist` node flags, as production does
// (`--node-flags "..."` overrides them, `--node-flags=` for none). `--pin` (where taskset
// exists) puts the service on core 1 and the homeserver and this load generator on core 0, as
// bench/ does, so that the generator does not compete with the service for its core.
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { scriptOptions } from '../harness/index.ts';
import {
  type Outcome,
  latencyQuantile,
  type RequestKind,
  send,
  pinSelf,
  serviceName,
  startHomeserver,
  startService,
  tally,
} from './load-support.ts';

const opts = scriptOptions({
  service: 'livekit-jwt',
  concurrency: 128,
  'capacity-ms': 5000,
  factor: 3,
  'overload-ms': 10_000,
  'timeout-ms': 30_000,
  'max-delay-ms': undefined,
  'max-in-flight': undefined,
  dist: false,
  'node-flags': 'start:dist',
  pin: false,
  // Writes every overload-phase outcome as a JSON line (scheduled offset, status, latencies).
  dump: '',
});
const service = serviceName(opts.service);
const kind: RequestKind = service === 'livekit-jwt' ? 'token' : 'transports';
const timeoutMs = opts['timeout-ms'];
const prefix = service === 'livekit-jwt' ? 'LIVEKIT_JWT' : 'WELL_KNOWN';

const pinnedHere = opts.pin && pinSelf('0');
const homeserver = await startHomeserver(0, opts.pin ? '0' : undefined);
const extraEnv: Record<string, string> = {};
if (opts['max-delay-ms'] !== undefined) {
  extraEnv[`${prefix}_MAX_EVENT_LOOP_DELAY_MS`] = String(opts['max-delay-ms']);
}
if (opts['max-in-flight'] !== undefined)
  extraEnv[`${prefix}_MAX_IN_FLIGHT`] = String(opts['max-in-flight']);
const { port, proc, nodeFlags } = await startService(service, homeserver.url, extraEnv, {
  dist: opts.dist,
  ...(opts['node-flags'] === 'start:dist'
    ? {}
    : { nodeFlags: opts['node-flags'].split(' ').filter((f) => f !== '') }),
  ...(opts.pin ? { cpus: '1' } : {}),
});
// Enough sockets that requests queue in the server, not in the client's pool.
const agent = new Agent({ keepAlive: true, maxSockets: 2048 });

// Phase 1: capacity, closed loop (each client sends its next request when the last answered).
const capacityOutcomes: Outcome[] = [];
const capacityEnd = performance.now() + opts['capacity-ms'];
await Promise.all(
  Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < capacityEnd) {
      capacityOutcomes.push(await send(agent, port, kind, timeoutMs));
    }
  }),
);
const capacityOk = capacityOutcomes.filter((o) => o.status === 200);
const capacityRps = capacityOk.length / (opts['capacity-ms'] / 1000);

// The generator's own lag: if it is high, requests left late and the figures are the client's.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

/** The route pattern the service labels these requests with in http_request_duration_seconds. */
const route = kind === 'token' ? '/sfu/get' : '/_matrix/client/v1/rtc/transports';

/** Cumulative bucket counts of http_request_duration_seconds for `route`, by status, from /metrics. */
async function serviceHistogram(): Promise<Map<string, Map<number, number>>> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const byStatus = new Map<string, Map<number, number>>();
  for (const m of text.matchAll(/^http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
    const labels: Record<string, string | undefined> = Object.fromEntries(
      [...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] ?? '', l[2] ?? '']),
    );
    if (labels.route !== route || labels.status === undefined) continue;
    const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
    const buckets = byStatus.get(labels.status) ?? new Map<number, number>();
    buckets.set(le, Number(m[2]));
    byStatus.set(labels.status, buckets);
  }
  return byStatus;
}

/**
 * The service's own view of the requests between two snapshots: per status, the count and the
 * bucket bound (seconds) under which half and 99 % of them were answered, measured by the service
 * from the request's arrival in Fastify to its answer (so without socket and accept-queue time).
 */
function serviceSide(
  before: Map<string, Map<number, number>>,
  after: Map<string, Map<number, number>>,
): Record<string, { count: number; p50UpToS: number | string; p99UpToS: number | string }> {
  const result: Record<
    string,
    { count: number; p50UpToS: number | string; p99UpToS: number | string }
  > = {};
  for (const [status, buckets] of after) {
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const diff = bounds.map((le) => (buckets.get(le) ?? 0) - (before.get(status)?.get(le) ?? 0));
    const count = diff.at(-1) ?? 0;
    if (count === 0) continue;
    const upTo = (q: number): number | string => {
      const le = bounds[diff.findIndex((c) => c >= q * count)] ?? Number.POSITIVE_INFINITY;
      return Number.isFinite(le) ? le : '+Inf';
    };
    result[status] = { count, p50UpToS: upTo(0.5), p99UpToS: upTo(0.99) };
  }
  return result;
}

/** The kernel's listen-queue overflow counter (all sockets of this network namespace). */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(' ') ?? [];
  const values = lines[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? Number.NaN);
}

// Phase 2: `factor` × capacity, open loop: every 10 ms the requests due so far leave, and each
// latency counts from its scheduled departure, so queueing anywhere is visible.
await new Promise((resolve) => setTimeout(resolve, 1000));
const offeredRps = capacityRps * opts.factor;
const histogramBefore = await serviceHistogram();
const overflowsBefore = listenOverflows();
const overloadMs = opts['overload-ms'];
const pending: Promise<Outcome & { atMs: number }>[] = [];
const start = performance.now();
let scheduled = 0;
while (performance.now() - start < overloadMs) {
  const due = Math.floor(((performance.now() - start) / 1000) * offeredRps);
  for (; scheduled < due; scheduled++) {
    const atMs = (scheduled / offeredRps) * 1000;
    pending.push(send(agent, port, kind, timeoutMs, start + atMs).then((o) => ({ ...o, atMs })));
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const outcomes = await Promise.all(pending);
const elapsedS = (performance.now() - start) / 1000;
const overflows = listenOverflows() - overflowsBefore;
if (opts.dump !== '') writeFileSync(opts.dump, outcomes.map((o) => JSON.stringify(o)).join('\n'));
const histogramAfter = await serviceHistogram().catch(() => new Map<string, Map<number, number>>());
// The service's peak resident memory since start (VmHWM) and its anonymous part now, in MiB.
// A service that died under the load (e.g. out of heap) shows as not alive, with no memory figures.
const alive = proc.child.exitCode === null && proc.child.signalCode === null;
const status = !alive ? '' : readFileSync(`/proc/${String(proc.pid)}/status`, 'utf8');
const statusMiB = (field: string): number =>
  Math.round(
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024,
  );
agent.destroy();
await proc.stop();
await homeserver.proc.stop();
lag.disable();

const admitted = outcomes.filter((o) => o.status === 200);
const shed = outcomes.filter((o) => o.status === 503 || o.status === 429);
const other = outcomes.filter((o) => o.status !== 200 && o.status !== 503 && o.status !== 429);
console.log(
  JSON.stringify({
    service,
    maxEventLoopDelayMs: opts['max-delay-ms'] ?? 'default',
    maxInFlight: opts['max-in-flight'] ?? 'default',
    from: opts.dist ? 'dist' : 'source',
    nodeFlags: nodeFlags.join(' '),
    pinned: pinnedHere ? 'service core 1, homeserver and generator core 0' : 'no',
    capacity: {
      rps: Math.round(capacityRps),
      concurrency: opts.concurrency,
      p50Ms: latencyQuantile(capacityOk, 0.5),
      p99Ms: latencyQuantile(capacityOk, 0.99),
      failed: capacityOutcomes.length - capacityOk.length,
    },
    overload: {
      offeredRps: Math.round(offeredRps),
      sent: outcomes.length,
      seconds: Math.round(elapsedS * 10) / 10,
      admitted: admitted.length,
      admittedRps: Math.round(admitted.length / elapsedS),
      admittedP50Ms: latencyQuantile(admitted, 0.5),
      admittedP99Ms: latencyQuantile(admitted, 0.99),
      admittedMaxMs: latencyQuantile(admitted, 1),
      shedByStatus: tally(shed.map((o) => o.status ?? 0)),
      shedP99Ms: latencyQuantile(shed, 0.99),
      otherFailures: other.length,
      generatorLagP99Ms: Math.round(lag.percentile(99) / 1e6),
      // Client-side split of the admitted latency: before the request could be written (pool
      // wait and TCP connect) and from then to the answer.
      admittedConnectP99Ms: latencyQuantile(
        admitted.map((o) => ({ ms: o.connectMs ?? o.ms })),
        0.99,
      ),
      admittedAfterConnectP99Ms: latencyQuantile(
        admitted.map((o) => ({ ms: o.ms - (o.connectMs ?? 0) })),
        0.99,
      ),
      listenQueueOverflows: overflows,
      serviceSide: serviceSide(histogramBefore, histogramAfter),
      serviceAliveAtEnd: alive,
      serviceVmHwmMiB: statusMiB('VmHWM'),
      serviceRssAnonEndMiB: statusMiB('RssAnon'),
      otherByKind: tally(other.map((o) => (o.status === undefined ? o.error : o.status) ?? '?')),
    },
  }),
);
