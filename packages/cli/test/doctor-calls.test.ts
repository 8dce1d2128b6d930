import { TurnError } from '@rtc-sidecars/turn';
import { describe, expect, it } from 'vitest';

import { runCheck } from '../src/doctor/doctor-check.ts';
import { checkGetToken, checkJwtHealth, checkLivekitJoin } from '../src/doctor/livekit-checks.ts';
import { checkLogin } from '../src/doctor/session-checks.ts';
import { checkLivekitTurn, checkTurnRelayUri, checkTurnServer } from '../src/doctor/turn-checks.ts';
import {
  CS,
  FAKE_DOMAIN,
  FAKE_FOCUS,
  FAKE_LIVEKIT_ICE,
  fakeContext,
  FOUND,
  outcome,
  outcomeWithDeps,
  relayOk,
  SESSION,
} from './doctor-fakes.ts';

describe('session and LiveKit checks', () => {
  it('should skip credentialed checks without credentials', async () => {
    const login = await outcome(checkLogin, {}, FOUND, { credentials: undefined });
    expect(login.result).toMatchObject({ status: 'skip', ms: 0 });
    expect((await outcome(checkGetToken, {}, FOUND)).result.status).toBe('skip');
    expect((await outcome(checkLivekitJoin, {}, FOUND)).result.status).toBe('skip');
  });

  it('should log in with a password or check an access token with whoami', async () => {
    const password = await outcome(checkLogin, {}, FOUND);
    expect(password.ctx.found.session).toMatchObject({ userId: SESSION.userId, ownLogin: true });
    const token = await outcome(checkLogin, {}, FOUND, { credentials: { accessToken: 'syt_x' } });
    expect(token.ctx.found.session).toMatchObject({ accessToken: 'syt_x', ownLogin: false });
    const refused = await outcome(
      checkLogin,
      { [`POST ${CS}/v3/login`]: { status: 403, json: { errcode: 'M_FORBIDDEN' } } },
      FOUND,
    );
    expect(refused.result.problem).toBe('login-failed');
  });

  it('should name a missing strip-prefix (404) on livekit-jwt /healthz', async () => {
    expect((await outcome(checkJwtHealth, {}, FOUND)).result.status).toBe('pass');
    const notRouted = await outcome(
      checkJwtHealth,
      { [`GET ${FAKE_FOCUS}/healthz`]: { status: 404 } },
      FOUND,
    );
    expect(notRouted.result.problem).toBe('jwt-not-routed');
  });

  it('should mint a LiveKit token and name OpenID and room-creation failures', async () => {
    const found = { ...FOUND, session: SESSION };
    const ok = await outcome(checkGetToken, {}, found);
    expect(ok.result.status).toBe('pass');
    expect(ok.ctx.found.livekit?.url).toBe(`wss://${FAKE_DOMAIN}/livekit/sfu`);
    const openId = await outcome(
      checkGetToken,
      { [`POST ${FAKE_FOCUS}/get_token`]: { status: 401, json: { errcode: 'M_UNAUTHORIZED' } } },
      found,
    );
    expect(openId.result.problem).toBe('openid-error');
    const secret = await outcome(
      checkGetToken,
      {
        [`POST ${FAKE_FOCUS}/get_token`]: {
          status: 500,
          json: { errcode: 'M_UNKNOWN', error: 'Unable to create room on SFU' },
        },
      },
      found,
    );
    expect(secret.result.problem).toBe('livekit-secret-mismatch');
    const plain = await outcome(
      checkGetToken,
      { [`POST ${FAKE_FOCUS}/get_token`]: { json: { url: 'https://lk.example.org', jwt: 'j' } } },
      found,
    );
    expect(plain.result.problem).toBe('livekit-url-not-wss');
  });

  it('should name a token LiveKit refuses and a LiveKit that never sends the join', async () => {
    const found = {
      livekit: { url: `wss://${FAKE_DOMAIN}/livekit/sfu`, jwt: 'j' },
      session: SESSION,
    };
    expect((await outcome(checkLivekitJoin, {}, found)).result.status).toBe('pass');
    const refused = await outcome(
      checkLivekitJoin,
      {
        [`GET https://${FAKE_DOMAIN}/livekit/sfu/rtc/validate`]: {
          status: 401,
          text: 'invalid token: signature is invalid',
        },
      },
      found,
    );
    expect(refused.result).toMatchObject({
      problem: 'livekit-secret-mismatch',
      detail: expect.stringMatching(/signature/),
    });
    const silent = await outcomeWithDeps(
      checkLivekitJoin,
      { signalJoin: () => Promise.resolve({ ok: false, detail: 'WebSocket handshake failed' }) },
      found,
    );
    expect(silent.problem).toBe('livekit-unreachable');
  });
});

describe('TURN checks', () => {
  const found = { ...FOUND, session: SESSION };

  it('should read the TURN credentials and refuse URIs that are not an array', async () => {
    const ok = await outcome(checkTurnServer, {}, found);
    expect(ok.ctx.found.turn?.uris).toHaveLength(2);
    const comma = await outcome(
      checkTurnServer,
      {
        [`GET ${CS}/v3/voip/turnServer`]: {
          json: { username: 'u', password: 'p', uris: 'turn:a?transport=udp,turn:a?transport=tcp' },
        },
      },
      found,
    );
    expect(comma.result.problem).toBe('turn-uris-not-array');
    const oneEntry = await outcome(
      checkTurnServer,
      {
        [`GET ${CS}/v3/voip/turnServer`]: {
          json: {
            username: 'u',
            password: 'p',
            uris: ['turn:a?transport=udp,turn:a?transport=tcp'],
          },
        },
      },
      found,
    );
    expect(oneEntry.result.problem).toBe('turn-uris-not-array');
    const none = await outcome(
      checkTurnServer,
      { [`GET ${CS}/v3/voip/turnServer`]: { json: {} } },
      found,
    );
    expect(none.result.problem).toBe('turn-not-configured');
  });

  it('should name a secret mismatch, an unreachable server and a relay that does not relay', async () => {
    const turn = { username: 'u', password: 'p', uris: ['turn:a:3478'], ttl: 60 };
    const cases = [
      [
        { step: 'allocate', error: TurnError.fromResponse('Allocate', 401, 'Unauthorized') },
        'turn-secret-mismatch',
      ],
      [
        { step: 'connect', error: new TurnError('ECONNREFUSED', { kind: 'network' }) },
        'turn-unreachable',
      ],
      [
        { step: 'allocate', error: new TurnError('no answer', { kind: 'timeout' }) },
        'turn-unreachable',
      ],
      [
        { step: 'relay', error: new TurnError('no echo', { kind: 'timeout' }) },
        'turn-relay-failed',
      ],
    ] as const;
    for (const [check, problem] of cases) {
      const ctx = fakeContext(
        {},
        { turn },
        { deps: { turnRelay: () => Promise.resolve({ ok: false, ...check }) } },
      );
      const result = await runCheck('turn-relay', 't', () => checkTurnRelayUri(ctx, 'turn:a:3478'));
      expect(result.problem).toBe(problem);
    }
  });

  it("should allocate on every TURN server of LiveKit's join response with its credentials", async () => {
    const seen: string[] = [];
    const ctx = fakeContext(
      {},
      { livekitIceServers: FAKE_LIVEKIT_ICE },
      {
        deps: {
          turnRelay: (o) => {
            seen.push(`${typeof o.uri === 'string' ? o.uri : ''} ${o.username}/${o.password}`);
            return relayOk();
          },
        },
      },
    );
    const result = await runCheck('livekit-turn', 't', () => checkLivekitTurn(ctx));
    expect(result.status).toBe('pass');
    expect(seen).toEqual(FAKE_LIVEKIT_ICE.map((s) => `${s.urls[0]} ${s.username}/${s.credential}`));
    expect(result.detail).toMatch(/transport=udp allocated, round trip 3\.2 ms; .*transport=tcp/);
  });

  it('should fail with a fix when LiveKit offers no TURN, or coturn refuses its credentials', async () => {
    const none = fakeContext({}, { livekitIceServers: [] });
    expect(await runCheck('livekit-turn', 't', () => checkLivekitTurn(none))).toMatchObject({
      status: 'fail',
      problem: 'livekit-turn-missing',
      detail: 'the join response lists no ICE servers',
    });
    const refused = fakeContext(
      {},
      { livekitIceServers: FAKE_LIVEKIT_ICE },
      {
        deps: {
          turnRelay: () =>
            Promise.resolve({
              ok: false,
              step: 'allocate',
              error: TurnError.fromResponse('Allocate', 401, 'Unauthorized'),
            }),
        },
      },
    );
    const result = await runCheck('livekit-turn', 't', () => checkLivekitTurn(refused));
    expect(result).toMatchObject({ status: 'fail', problem: 'livekit-turn-secret-mismatch' });
    expect(result.detail).toMatch(/^turn:hi\.example\.org:3478\?transport=udp: allocate: /);
  });

  it('should pass an allocation whose round trip cannot be tested from behind the same NAT', async () => {
    const ctx = fakeContext(
      {},
      { turn: { username: 'u', password: 'p', uris: ['turn:a:3478'], ttl: 60 } },
      {
        deps: {
          turnRelay: () =>
            Promise.resolve({
              ok: true,
              step: 'done',
              relayed: { family: 'IPv4', address: '45.67.89.10', port: 49170 },
              roundTripUntestable: 'hairpin NAT needed',
            }),
        },
      },
    );
    const result = await runCheck('turn-relay', 't', () => checkTurnRelayUri(ctx, 'turn:a:3478'));
    expect(result).toMatchObject({
      status: 'pass',
      detail:
        'allocated relay 45.67.89.10:49170, round trip not testable from here: hairpin NAT needed',
    });
  });
});
