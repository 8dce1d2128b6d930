/**
 * TURN as Element Call gets it: the join-response ICE servers of a real livekit-server running
 * the livekit.yaml `rtc-sidecars init` generated, against a real coturn running the generated
 * turnserver.conf (both through the harness's `onLoopback`). Measures the time LiveKit takes to
 * hand out the servers (signalling join), an Allocate with LiveKit's credentials (including the
 * 401 challenge round trip) over UDP and TCP, and a datagram's round trip through the relay
 * (packages/turn `checkTurnRelay`, as doctor runs it). Usage: pnpm bench turn-relay [-- --rounds N]
 */
import { loadavg } from 'node:os';
import { signalUrl, webSocketJoin } from '@rtc-sidecars/cli';
import {
  onLoopback,
  scriptOptions,
  startCoturn,
  startLivekitFrom,
} from '@rtc-sidecars/test-harness';
import { checkTurnRelay, TurnClient } from '@rtc-sidecars/turn';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { initDeployment } from '../test/e2e/init-deployment.ts';

const opts = scriptOptions({
  rounds: 100,
  // Each join is a participant with its own TURN username; rounds rotate over them, since
  // coturn's user-quota (12 allocations per username) frees a deleted allocation only later.
  joins: 100,
  // Targets (p99, ms) on loopback; the machine may be shared, so they are loose.
  'max-allocate-p99': 100,
  'max-round-trip-p99': 50,
});

function summary(name: string, ms: number[]): Record<string, string | number> {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): string =>
    (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2);
  return { measure: name, n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

const generated = await initDeployment('bench.turn.test');
const coturn = await startCoturn(
  (layout) => onLoopback(generated.turnserverConf, { kind: 'turnserver.conf', ...layout }),
  // coturn does not hand a deleted allocation's relay port out again at once: one per Allocate.
  { relayPortCount: 3 * opts.rounds + 10 },
);
const livekit = await startLivekitFrom((ports) =>
  onLoopback(generated.livekitYaml, { kind: 'livekit.yaml', ...ports, turnPort: coturn.port }),
);
let failed = false;
try {
  const { livekitKey, livekitSecret } = generated.secrets;
  await new RoomServiceClient(livekit.httpUrl, livekitKey, livekitSecret).createRoom({
    name: 'bench',
  });
  const joinMs: number[] = [];
  const pool: (readonly { urls: readonly string[]; username: string; credential: string }[])[] = [];
  for (let i = 0; i < opts.joins; i++) {
    const token = new AccessToken(livekitKey, livekitSecret, { identity: `bench-${i}` });
    token.addGrant({ roomJoin: true, room: 'bench' });
    const url = signalUrl(livekit.wsUrl, await token.toJwt());
    const started = performance.now();
    const joined = await webSocketJoin(url, 10_000);
    joinMs.push(performance.now() - started);
    if (!joined.ok) throw new Error(`join failed: ${joined.detail}`);
    pool.push(joined.iceServers);
  }
  const byTransport = (t: string, round = 0) => {
    const servers = pool[round % pool.length] ?? [];
    const server = servers.find((s) => s.urls[0]?.endsWith(`transport=${t}`));
    if (server === undefined) throw new Error(`LiveKit offered no ${t} TURN server`);
    return { uri: server.urls[0] ?? '', username: server.username, password: server.credential };
  };
  const rows = [summary('signalling join → ICE servers', joinMs)];
  const allocateP99: number[] = [];
  for (const transport of ['udp', 'tcp']) {
    const ms: number[] = [];
    // Kept open until the end: coturn keeps a deleted allocation's 5-tuple for a while, and a
    // new socket on a recycled local port would then get 437.
    const open: TurnClient[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      const client = await TurnClient.connect(byTransport(transport, i));
      open.push(client);
      const started = performance.now();
      await client.allocate();
      ms.push(performance.now() - started);
    }
    for (const client of open) await client.close();
    const row = summary(`Allocate (401 challenge + retry), ${transport}`, ms);
    allocateP99.push(Number(row.p99));
    rows.push(row);
  }
  const rtt: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const result = await checkTurnRelay({ ...byTransport('udp', i), timeoutMs: 5000 });
    if (!result.ok || result.roundTripMs === undefined) {
      throw new Error(`relay check failed: ${result.error?.message ?? 'no round trip'}`);
    }
    rtt.push(result.roundTripMs);
  }
  const rttRow = summary('relay round trip (peer → relay → client → relay → peer), udp', rtt);
  rows.push(rttRow);
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.table(rows);
  for (const p99 of allocateP99) {
    if (p99 > opts['max-allocate-p99']) {
      console.error(`Allocate p99 ${p99} ms is above the target ${opts['max-allocate-p99']} ms`);
      failed = true;
    }
  }
  if (Number(rttRow.p99) > opts['max-round-trip-p99']) {
    console.error(`round trip p99 ${rttRow.p99} ms is above ${opts['max-round-trip-p99']} ms`);
    failed = true;
  }
} finally {
  await livekit.stop();
  await coturn.stop();
}
process.exit(failed ? 1 : 0);
