import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort } from '@rtc-sidecars/test-harness';
import { describe, expect, it } from 'vitest';

import { PROBLEMS } from '../src/doctor/doctor-catalogue.ts';
import { rewriteUrl } from '../src/doctor/doctor-http.ts';
import { spinnerProgress } from '../src/doctor/doctor-progress.ts';
import { renderJson, renderText } from '../src/doctor/render-report.ts';
import { type DoctorReport, runDoctor } from '../src/doctor/run-doctor.ts';
import { signalUrl } from '../src/doctor/signal-join.ts';
import { cli, removeDir, tempDir } from './cli-harness.ts';
import {
  FAKE_DOMAIN,
  FAKE_USER,
  fakeDeps,
  fakeFetch,
  fakeSettings,
  healthyRoutes,
  type Routes,
} from './doctor-fakes.ts';

const PRESENCE = `https://${FAKE_DOMAIN}/_matrix/client/v3/presence/${encodeURIComponent(FAKE_USER)}/status`;

/** The healthy fake deployment with a presence endpoint that keeps what it is given. */
function deployment(changes: Routes = {}): Routes {
  let state: unknown = { presence: 'online' };
  return {
    ...healthyRoutes(),
    [`GET ${PRESENCE}`]: () => ({ json: state }),
    [`PUT ${PRESENCE}`]: (init) => {
      state = JSON.parse(init.body as string);
      return { json: {} };
    },
    ...changes,
  };
}

describe('runDoctor', () => {
  it('should pass every check, one TURN line per URI, and log out its own session', async () => {
    const log: string[] = [];
    const deps = fakeDeps(deployment(), { fetch: fakeFetch(deployment(), log) });
    const report = await runDoctor(fakeSettings(), deps);
    expect(report.ok).toBe(true);
    expect(report.results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(report.results.filter((r) => r.id === 'turn-relay').map((r) => r.title)).toEqual([
      `TURN relay turn:${FAKE_DOMAIN}:3478?transport=udp`,
      `TURN relay turn:${FAKE_DOMAIN}:3478?transport=tcp`,
    ]);
    expect(log.at(-1)).toBe(`POST https://${FAKE_DOMAIN}/_matrix/client/v3/logout`);
  });

  it('should skip, not fail, the credentialed checks without credentials', async () => {
    const report = await runDoctor(
      fakeSettings({ credentials: undefined }),
      fakeDeps(deployment()),
    );
    expect(report.ok).toBe(true);
    expect(report.results.filter((r) => r.status === 'skip').map((r) => r.id)).toEqual([
      'login',
      'get-token',
      'livekit-join',
      'livekit-turn',
      'turn-server',
      'presence',
    ]);
  });

  it('should not be ok when one check fails, and honour --skip', async () => {
    const changes = { [`GET https://${FAKE_DOMAIN}/livekit-jwt/healthz`]: { status: 404 } };
    const report = await runDoctor(
      fakeSettings({ skip: ['presence'] }),
      fakeDeps(deployment(changes)),
    );
    expect(report.ok).toBe(false);
    expect(report.results.find((r) => r.id === 'presence')?.detail).toBe('skipped (--skip)');
  });
});

describe('rendering', () => {
  const report: DoctorReport = {
    domain: FAKE_DOMAIN,
    ok: false,
    results: [
      {
        id: 'well-known-client',
        title: 'well-known client document',
        status: 'pass',
        detail: 'ok',
        ms: 12,
      },
      {
        id: 'cors',
        title: 'CORS for browsers',
        status: 'fail',
        detail: 'no ACAO',
        ms: 7,
        problem: 'cors-missing',
      },
      {
        id: 'presence',
        title: 'presence status message',
        status: 'skip',
        detail: 'needs creds',
        ms: 0,
      },
    ],
  };

  it('should print a mark, the latency and, under a failure, its cause and fix', () => {
    const lines = renderText(report);
    expect(lines).toContain(`✓ ${'well-known client document'.padEnd(36)}   12 ms  ok`);
    const failed = lines.findIndex((l) => l.startsWith('✗ CORS for browsers'));
    expect(lines[failed]).toMatch(/ 7 ms {2}no ACAO$/);
    expect(lines[failed + 1]).toBe(`    cause: ${PROBLEMS['cors-missing'].cause}`);
    expect(lines[failed + 2]).toBe(`    fix:   ${PROBLEMS['cors-missing'].fix}`);
    expect(lines).toContain(`- ${'presence status message'.padEnd(36)}          needs creds`);
    expect(lines.at(-1)).toBe('1 passed, 1 failed, 1 skipped: not ready for calls');
  });

  it('should put the domain into a fix that names it', () => {
    const json = JSON.parse(
      renderJson({
        ...report,
        results: [{ ...report.results[1]!, problem: 'livekit-url-not-wss' }],
      }),
    ) as { checks: { fix: string }[]; ok: boolean; failed: number };
    expect(json).toMatchObject({ ok: false, failed: 1 });
    expect(json.checks[0]?.fix).toBe(`Set LIVEKIT_URL=wss://${FAKE_DOMAIN}/livekit/sfu.`);
  });
});

describe('--via', () => {
  it("should send the domain's https and wss URLs to the given origin and leave others alone", () => {
    const via = new URL('http://192.168.1.10:8080');
    expect(rewriteUrl(`https://${FAKE_DOMAIN}/.well-known/matrix/client`, FAKE_DOMAIN, via)).toBe(
      'http://192.168.1.10:8080/.well-known/matrix/client',
    );
    expect(rewriteUrl(`wss://${FAKE_DOMAIN}/livekit/sfu/rtc?a=1`, FAKE_DOMAIN, via)).toBe(
      'ws://192.168.1.10:8080/livekit/sfu/rtc?a=1',
    );
    expect(rewriteUrl('https://other.example.org/x', FAKE_DOMAIN, via)).toBe(
      'https://other.example.org/x',
    );
  });

  it('should send another port of the domain (the federation fallback) to that port of the given host', () => {
    const via = new URL('http://192.168.1.10:8080');
    const url = `https://${FAKE_DOMAIN}:8448/_matrix/federation/v1/openid/userinfo?access_token=x`;
    expect(rewriteUrl(`https://${FAKE_DOMAIN}:443/x`, FAKE_DOMAIN, via)).toBe(
      'http://192.168.1.10:8080/x',
    );
    expect(rewriteUrl(url, FAKE_DOMAIN, via)).toBe(
      'http://192.168.1.10:8448/_matrix/federation/v1/openid/userinfo?access_token=x',
    );
  });
});

describe('network failures in words', () => {
  it('should explain a name without DNS (ENOTFOUND) with its own cause and fix', async () => {
    const dns = Object.assign(new Error(`getaddrinfo ENOTFOUND ${FAKE_DOMAIN}`), {
      code: 'ENOTFOUND',
    });
    const deps = fakeDeps(
      {},
      {
        fetch: () => Promise.reject(new TypeError('fetch failed', { cause: dns })),
      },
    );
    const report = await runDoctor(fakeSettings(), deps);
    expect(report.results[0]).toMatchObject({
      status: 'fail',
      problem: 'dns-unresolved',
      detail: `https://${FAKE_DOMAIN}/.well-known/matrix/client: DNS has no address for ${FAKE_DOMAIN} (ENOTFOUND)`,
    });
    expect(renderText(report).join('\n')).toContain(
      PROBLEMS['dns-unresolved'].fix.replaceAll('DOMAIN', FAKE_DOMAIN),
    );
  });

  it("should explain a port fetch refuses (the browsers' bad ports) without connecting", async () => {
    const run = await cli([
      'doctor',
      '--domain',
      FAKE_DOMAIN,
      '--via',
      'http://127.0.0.1:6667',
      '--json',
    ]);
    const json = JSON.parse(run.out.join('\n')) as {
      checks: { problem?: string; detail: string }[];
    };
    expect(json.checks[0]).toMatchObject({
      problem: 'fetch-bad-port',
      detail: expect.stringContaining('fetch refuses to connect to this port'),
    });
  });
});

describe('rtc-sidecars doctor (command)', () => {
  it('should refuse bad usage with exit code 2', async () => {
    expect((await cli(['doctor'])).code).toBe(2);
    expect((await cli(['doctor', '--domain', FAKE_DOMAIN, '--user', FAKE_USER])).err[0]).toMatch(
      /--user needs --password/,
    );
    expect((await cli(['doctor', '--domain', FAKE_DOMAIN, '--skip', 'nope'])).code).toBe(2);
    expect((await cli(['doctor', '--domain', FAKE_DOMAIN, '--via', 'lan'])).code).toBe(2);
  });

  it('should exit 1 and name the cause (once) when nothing answers', async () => {
    // A free port nobody listens on: every request is refused.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await cli(['doctor', '--domain', FAKE_DOMAIN, '--via', closed, '--timeout', '2']);
    expect(run.code).toBe(1);
    expect(run.out[0]).toBe(`rtc-sidecars doctor ${FAKE_DOMAIN}`);
    expect(run.out[2]).toMatch(/^✗ well-known client document .*ECONNREFUSED/);
    const fix = `    fix:   ${PROBLEMS['domain-unreachable'].fix}`;
    expect(run.out.filter((l) => l === fix)).toHaveLength(1);
    expect(run.out).toContain('    (same cause and fix as above)');
    expect(run.out.at(-1)).toMatch(/0 passed, \d+ failed, \d+ skipped: not ready for calls/);
  });

  it('should read the server name from the deployment folder and check federation through --via', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, '.env'), `SERVER_NAME=${FAKE_DOMAIN}\n`);
      const closed = `http://127.0.0.1:${await freePort()}`;
      const run = await cli(['doctor', dir, '--via', closed, '--json', '--timeout', '2']);
      expect(run.code).toBe(1);
      const json = JSON.parse(run.out.join('\n')) as {
        domain: string;
        checks: { id: string; detail: string }[];
      };
      expect(json.domain).toBe(FAKE_DOMAIN);
      // Refused on the local host (the 8448 fallback, nothing there): the request never went
      // to the public name.
      const federation = json.checks.find((c) => c.id === 'federation-openid');
      expect(federation?.detail).toMatch(/:8448\/.*ECONNREFUSED/);
      expect((await cli(['doctor'], dir)).code).toBe(1);
    } finally {
      removeDir(dir);
    }
  });

  it('should refuse a folder without a deployment and no --domain', async () => {
    const dir = tempDir();
    try {
      const run = await cli(['doctor', dir]);
      expect(run.code).toBe(2);
      expect(run.err[0]).toMatch(/--domain NAME is required: .* holds no deployment \(\.env\)/);
    } finally {
      removeDir(dir);
    }
  });

  it('should print one JSON document with --json', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await cli(['doctor', '--domain', FAKE_DOMAIN, '--via', closed, '--json']);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.out.join('\n')) as { ok: boolean; checks: { problem?: string }[] };
    expect(json.ok).toBe(false);
    expect(json.checks[0]?.problem).toBe('domain-unreachable');
  });
});

describe('spinnerProgress', () => {
  it('should draw the running check and erase it before the result is printed', () => {
    const written: string[] = [];
    const printed: string[] = [];
    const progress = spinnerProgress({ write: (t: string) => written.push(t) }, (r) =>
      printed.push(`${written.at(-1) ?? ''}|${r.title}`),
    );
    progress.start?.('CORS for browsers');
    expect(written[0]?.startsWith('\r\u001b[K')).toBe(true);
    expect(written[0]).toMatch(/ checking CORS for browsers…$/);
    progress.done?.({ id: 'cors', title: 'CORS for browsers', status: 'pass', detail: '', ms: 1 });
    // The line was erased before the result went out.
    expect(printed).toEqual(['\r\x1b[K|CORS for browsers']);
  });
});

describe('signalUrl', () => {
  it('should put /rtc under the LiveKit URL path and the token in the query', () => {
    expect(signalUrl(`wss://${FAKE_DOMAIN}/livekit/sfu/`, 'a.b.c')).toBe(
      `wss://${FAKE_DOMAIN}/livekit/sfu/rtc?access_token=a.b.c&auto_subscribe=0&protocol=15`,
    );
    expect(signalUrl('https://lk.example.org', 'j')).toMatch(/^wss:\/\/lk\.example\.org\/rtc\?/);
  });
});
