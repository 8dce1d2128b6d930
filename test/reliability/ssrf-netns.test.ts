// SSRF cases that need a public peer: a redirect, a delegation or a DNS answer that starts at a
// public address the guard must let through, then points inside. The scenarios run in a child
// process inside a fresh network namespace (`unshare -rn`), where the loopback interface also
// carries a public address; see ssrf-netns-scenarios.ts. Each case must leave the internal
// listener without a connection and give the client the reference's 401, and the public peer
// must have been reached first (so the case tested what it claims).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGES } from '@rtc-sidecars/livekit-jwt';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from './ssrf-netns-scenarios.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PUBLIC_IP = '11.1.1.1';
let results: Map<string, ScenarioResult>;

beforeAll(() => {
  const script = join(here, 'ssrf-netns-scenarios.ts');
  const setup = `ip link set lo up && ip addr add ${PUBLIC_IP}/32 dev lo`;
  const run = spawnSync(
    'unshare',
    ['-rn', 'sh', '-c', `${setup} && exec "$0" --conditions=source "$1"`, process.execPath, script],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(
      `the SSRF scenarios need a network namespace (unshare -rn, ip from iproute2) to give loopback a public address; they failed: ${run.error?.message ?? `exit ${String(run.status)}`}\n${run.stderr}`,
    );
  }
  const lines = run.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
  results = new Map(
    lines.map((l) => {
      const r = JSON.parse(l) as ScenarioResult;
      return [r.name, r];
    }),
  );
}, 90_000);

/** Case name → the public requests that must have happened before the case turned inward. */
const CASES: readonly [string, readonly string[]][] = [
  ['redirect to 127.0.0.1', ['redirect.test /.well-known/matrix/server']],
  ['redirect to a name resolving to loopback', ['redirect-name.test /.well-known/matrix/server']],
  ['redirect to IPv4-mapped loopback', ['redirect-mapped.test /.well-known/matrix/server']],
  [
    'redirect to a public host that redirects inside',
    ['redirect-chain.test /.well-known/matrix/server', 'redirect.test /.well-known/matrix/server'],
  ],
  ['delegation to 127.0.0.1', ['delegate-ip.test /.well-known/matrix/server']],
  ['delegation to a name resolving to loopback', ['delegate-name.test /.well-known/matrix/server']],
  [
    'delegation to a name whose SRV target is loopback',
    ['delegate-srv.test /.well-known/matrix/server'],
  ],
  ['delegation to 2130706433', ['delegate-numeric.test /.well-known/matrix/server']],
  ['delegation to localhost', ['delegate-localhost.test /.well-known/matrix/server']],
  [
    'DNS rebinding: public for the well-known, loopback for the connect',
    ['rebind.test /.well-known/matrix/server'],
  ],
  ['DNS rebinding with an explicit port, first verification', []],
  ['DNS rebinding with an explicit port, second verification', []],
];

describe('SSRF from a public starting point', () => {
  it.each(CASES)('should not reach the internal listener: %s', (name, publicFirst) => {
    const r = results.get(name);
    expect(r, `no result for ${name}`).toBeDefined();
    const result = r as ScenarioResult;
    expect(
      { internal: result.internal, status: result.status, body: result.body },
      `${result.kind}: ${result.message}`,
    ).toEqual({
      internal: 0,
      status: 401,
      body: { errcode: 'M_UNAUTHORIZED', error: MESSAGES.unauthorised },
    });
    expect(result.public).toEqual(expect.arrayContaining([...publicFirst]));
    expect(result.kind).toMatch(/^(refused_by_policy|unreachable)$/);
  });
});
