import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type RegisteredUser,
  startCoturn,
  startNodeService,
  startSynapse,
  type Synapse,
} from '@rtc-sidecars/test-harness';
import { renderTurnserverConf } from '@rtc-sidecars/turn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JWT_PREFIX } from '../../../test/e2e/front-door.ts';
import {
  DOMAIN,
  type Stack,
  startLivekitWithTurnSecret,
  startStack,
} from '../../../test/e2e/stack.ts';
import { Timings } from '../../../test/e2e/timings.ts';
import { describeProblem, PROBLEMS } from '../src/doctor/doctor-catalogue.ts';
import { TRANSPORTS_PATH } from '../src/doctor/routing-checks.ts';
import { CHECK_IDS } from '../src/doctor/run-doctor.ts';
import { type FaultProxy, startFaultProxy } from './doctor-fault-proxy.ts';
import { type DoctorRun, failures, type JsonReport, runDoctorProcess } from './doctor-process.ts';

describe('rtc-sidecars doctor against the e2e stack', { timeout: 60_000 }, () => {
  let stack: Stack;
  /** A second, bare Synapse with presence disabled, as the seed deployment had it. */
  let noPresence: Synapse;
  let user: RegisteredUser;
  let dir: string;
  let caFile: string;
  let passwordFile: string;
  const cleanup: (() => Promise<unknown>)[] = [];

  /**
   * Runs doctor as its own process (so the federation check trusts the test CA through
   * NODE_EXTRA_CA_CERTS like any Node program would), logged in, through `via`.
   */
  const doctor = (via: string, extra: readonly string[] = []): Promise<DoctorRun> =>
    runDoctorProcess(
      [
        ...['--domain', DOMAIN, '--via', via],
        // The stack's LiveKit URL is ws:// on loopback.
        '--insecure-http',
        ...['--user', user.userId, '--password-file', passwordFile],
        ...extra,
      ],
      { NODE_EXTRA_CA_CERTS: caFile },
    );

  const proxy = async (faults: Parameters<typeof startFaultProxy>[1]): Promise<FaultProxy> => {
    const p = await startFaultProxy(stack.frontDoor.url, faults);
    cleanup.push(() => p.close());
    return p;
  };

  beforeAll(async () => {
    // Both start together: the extra Synapse adds little to the stack's own start-up.
    const [stackStart, noPresenceStart] = await Promise.allSettled([
      startStack(new Timings(), { presence: true }),
      startSynapse({ presence: false }),
    ]);
    if (stackStart.status === 'fulfilled') cleanup.push(() => stackStart.value.stop());
    if (noPresenceStart.status === 'fulfilled') cleanup.push(() => noPresenceStart.value.stop());
    if (stackStart.status === 'rejected') throw stackStart.reason;
    if (noPresenceStart.status === 'rejected') throw noPresenceStart.reason;
    stack = stackStart.value;
    noPresence = noPresenceStart.value;
    dir = await mkdtemp(join(tmpdir(), 'doctor-live-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, stack.federationCa);
    user = await stack.synapse.register('doctor');
    passwordFile = join(dir, 'doctor.pw');
    await writeFile(passwordFile, `${user.password}\n`, { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    for (const undo of cleanup.reverse()) await undo();
  });

  /** Runs doctor with `--json` and parses it. */
  const doctorJson = async (via: string): Promise<{ code: number; report: JsonReport }> => {
    const run = await doctor(via, ['--json']);
    return { code: run.code, report: JSON.parse(run.stdout) as JsonReport };
  };

  it('should report every check green on a working deployment', async () => {
    const run = await doctor(stack.frontDoor.url);
    // The captured output is what packages/cli/doctor-example.txt shows.
    console.log(run.stdout);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^[✓✗-] /.test(l));
    expect(lines).toHaveLength(15);
    expect(lines.filter((l) => !l.startsWith('✓'))).toEqual([]);
    for (const title of [
      'well-known client document',
      'CORS for browsers',
      'MSC4143 rtc/transports',
      'federation OpenID route',
      'OpenID -> livekit-jwt /get_token',
      'LiveKit accepts the token (join)',
      'LiveKit offers TURN',
      `TURN relay ${stack.turnUri}`,
      'presence status message',
    ]) {
      expect(lines.some((l) => l.startsWith(`✓ ${title}`))).toBe(true);
    }
    expect(run.stdout).toMatch(/15 passed, 0 failed, 0 skipped: ready for calls/);
    // LiveKit's TURN servers, each allocated with the credentials of doctor's own join.
    const turn = lines.find((l) => l.startsWith('✓ LiveKit offers TURN')) ?? '';
    for (const uri of stack.livekitTurnUris) expect(turn).toContain(`${uri} allocated relay`);
  });

  it("should name disabled presence (the seed's original failure) on a homeserver that drops it", async () => {
    // A Synapse with `presence.enabled: false` answers 200 to the update and keeps nothing,
    // exactly the failure an operator cannot see from the outside. Doctor talks to it directly
    // (its client API stands in for https://<domain>) and runs only the session and presence.
    const owner = await noPresence.register('doctor');
    const run = await runDoctorProcess(
      [
        ...['--domain', 'no-presence.e2e.test', '--via', noPresence.baseUrl],
        ...['--access-token', owner.accessToken, '--json'],
        ...CHECK_IDS.filter((id) => id !== 'login' && id !== 'presence').flatMap((id) => [
          '--skip',
          id,
        ]),
      ],
      {},
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.checks.filter((c) => c.status !== 'skip').map((c) => c.id)).toEqual([
      'login',
      'presence',
    ]);
    expect(failures(report)).toEqual([
      { id: 'presence', problem: 'presence-disabled', fix: PROBLEMS['presence-disabled'].fix },
    ]);
  });

  it('should name missing CORS and its fix when the proxy strips the headers', async () => {
    const p = await proxy({ stripCors: true });
    // The human report this time: the failure line, then the catalogue's cause and fix.
    const run = await doctor(p.url);
    console.log(run.stdout);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    const failed = lines.filter((l) => l.startsWith('✗'));
    expect(failed).toEqual([
      expect.stringMatching(/^✗ CORS for browsers .*no Access-Control-Allow-Origin/),
    ]);
    const at = lines.indexOf(failed[0] ?? '');
    expect(lines.slice(at + 1, at + 3)).toEqual([
      `    cause: ${PROBLEMS['cors-missing'].cause}`,
      `    fix:   ${PROBLEMS['cors-missing'].fix}`,
    ]);
    expect(run.stdout).toMatch(/14 passed, 1 failed, 0 skipped: not ready for calls/);
  });

  it('should name an unrouted transports endpoint (homeserver answers it) and its fix', async () => {
    const p = await proxy({
      reroute: (path) =>
        path.startsWith(TRANSPORTS_PATH) ? { base: stack.synapse.baseUrl, path } : undefined,
    });
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'transports',
        problem: 'transports-not-routed',
        fix: PROBLEMS['transports-not-routed'].fix,
      },
    ]);
  });

  it('should name a missing server document and the 8448 fallback it causes', async () => {
    // /.well-known/matrix/server falls through to the homeserver, which does not serve it.
    const p = await proxy({
      reroute: (path) =>
        path === '/.well-known/matrix/server' ? { base: stack.synapse.baseUrl, path } : undefined,
    });
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'well-known-server',
        problem: 'server-well-known-missing',
        fix: describeProblem('server-well-known-missing', DOMAIN).fix,
      },
      {
        id: 'federation-openid',
        problem: 'federation-unreachable',
        fix: PROBLEMS['federation-unreachable'].fix,
      },
    ]);
    expect(report.checks.find((c) => c.id === 'federation-openid')?.detail).toContain(
      `https://${DOMAIN}:8448`,
    );
  });

  /**
   * A second livekit-jwt with the right LiveKit key but another secret, and a proxy that sends
   * the focus path to it. `fullAccess` decides whether it creates the room (full-access users)
   * or only mints a join token (everyone else).
   */
  const withWrongLivekitSecret = async (fullAccess: string): Promise<FaultProxy> => {
    const wrongJwt = await startNodeService({
      name: 'livekit-jwt',
      env: (port) => ({
        LIVEKIT_URL: stack.livekit.wsUrl,
        LIVEKIT_KEY: stack.secrets.livekitKey,
        LIVEKIT_SECRET: randomBytes(32).toString('hex'),
        LIVEKIT_FULL_ACCESS_HOMESERVERS: fullAccess,
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'true',
        NODE_EXTRA_CA_CERTS: caFile,
        LIVEKIT_LOG_LEVEL: 'warn',
      }),
    });
    cleanup.push(() => wrongJwt.stop());
    return proxy({
      reroute: (path) =>
        path.startsWith(`${JWT_PREFIX}/`)
          ? { base: wrongJwt.url, path: path.slice(JWT_PREFIX.length) }
          : undefined,
    });
  };

  it('should name a LiveKit secret that livekit-jwt and LiveKit do not share (room creation)', async () => {
    const p = await withWrongLivekitSecret(stack.synapse.serverName);
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'get-token',
        problem: 'livekit-secret-mismatch',
        fix: PROBLEMS['livekit-secret-mismatch'].fix,
      },
    ]);
    expect(report.checks.find((c) => c.id === 'livekit-join')?.status).toBe('skip');
  });

  it('should name the same mismatch when LiveKit refuses the join token itself', async () => {
    // Not a full-access user: livekit-jwt mints a token without calling LiveKit, and LiveKit's
    // own /rtc/validate refuses its signature.
    const p = await withWrongLivekitSecret('other.example.org');
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'livekit-join',
        problem: 'livekit-secret-mismatch',
        fix: PROBLEMS['livekit-secret-mismatch'].fix,
      },
    ]);
    const join = report.checks.find((c) => c.id === 'livekit-join');
    expect(join?.detail).toMatch(/rtc\/validate: 401/);
  });

  it("should name a coturn secret that differs from the homeserver's", async () => {
    const otherCoturn = await startCoturn((layout) =>
      renderTurnserverConf({
        realm: 'turn.e2e.test',
        secrets: [randomBytes(32).toString('hex')],
        listeningPort: layout.port,
        relayPorts: layout.relayPorts,
        testOnly: { workDir: layout.workDir, allowLoopbackPeers: true },
      }),
    );
    cleanup.push(() => otherCoturn.stop());
    const otherUri = `turn:127.0.0.1:${otherCoturn.port}?transport=udp`;
    // Synapse's real credentials, presented to a coturn that has another static-auth-secret.
    const p = await proxy({
      rewriteJson: {
        path: /\/voip\/turnServer$/,
        edit: (body) => ({ ...(body as object), uris: [otherUri] }),
      },
    });
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'turn-relay',
        problem: 'turn-secret-mismatch',
        fix: PROBLEMS['turn-secret-mismatch'].fix,
      },
    ]);
    expect(report.checks.find((c) => c.id === 'turn-relay')?.title).toBe(`TURN relay ${otherUri}`);
  });

  it("should name a LiveKit TURN secret that differs from coturn's, with its fix", async () => {
    // The generated livekit.yaml with another rtc.turn_servers secret, behind a livekit-jwt of
    // its own: what a deployment whose livekit.yaml drifted from turnserver.conf hands out.
    const wrongLivekit = await startLivekitWithTurnSecret(stack, randomBytes(32).toString('hex'));
    cleanup.push(() => wrongLivekit.stop());
    const jwt = await startNodeService({
      name: 'livekit-jwt',
      env: (port) => ({
        LIVEKIT_URL: wrongLivekit.wsUrl,
        LIVEKIT_KEY: stack.secrets.livekitKey,
        LIVEKIT_SECRET: stack.secrets.livekitSecret,
        LIVEKIT_FULL_ACCESS_HOMESERVERS: stack.synapse.serverName,
        LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
        LIVEKIT_ALLOW_PRIVATE_HOMESERVERS: 'true',
        NODE_EXTRA_CA_CERTS: caFile,
        LIVEKIT_LOG_LEVEL: 'warn',
      }),
    });
    cleanup.push(() => jwt.stop());
    const p = await proxy({
      reroute: (path) =>
        path.startsWith(`${JWT_PREFIX}/`)
          ? { base: jwt.url, path: path.slice(JWT_PREFIX.length) }
          : undefined,
    });
    const { code, report } = await doctorJson(p.url);
    expect(code).toBe(1);
    expect(failures(report)).toEqual([
      {
        id: 'livekit-turn',
        problem: 'livekit-turn-secret-mismatch',
        fix: PROBLEMS['livekit-turn-secret-mismatch'].fix,
      },
    ]);
    expect(report.checks.find((c) => c.id === 'livekit-turn')?.detail).toMatch(
      /^turn:127\.0\.0\.1:\d+\?transport=udp: allocate: .*401/,
    );
  });
});
