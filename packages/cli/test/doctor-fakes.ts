import type { TurnRelayCheck } from '@rtc-sidecars/turn';

import type { CheckOutcome, CheckResult } from '../src/doctor/doctor-check.ts';
import { runCheck } from '../src/doctor/doctor-check.ts';
import type {
  DoctorContext,
  DoctorDeps,
  DoctorSettings,
  Findings,
  SignalJoin,
} from '../src/doctor/doctor-context.ts';

/** The domain every fake answers for. */
export const FAKE_DOMAIN = 'hi.example.org';
/** The focus the fake deployment publishes. */
export const FAKE_FOCUS = `https://${FAKE_DOMAIN}/livekit-jwt`;
/** The user the fake homeserver knows. */
export const FAKE_USER = `@doctor:${FAKE_DOMAIN}`;

/** One canned answer; `json` is serialised with `application/json` unless headers say else. */
export interface FakeAnswer {
  readonly status?: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly headers?: Record<string, string>;
}

/** Answers keyed by `METHOD URL-without-query`; a function sees the request. */
export type Routes = Record<string, FakeAnswer | ((init: RequestInit) => FakeAnswer)>;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'Authorization',
};

/** A deployment where every check passes: the unit tests override one route at a time. */
export function healthyRoutes(): Routes {
  const wk = `https://${FAKE_DOMAIN}/.well-known/matrix`;
  const cs = `https://${FAKE_DOMAIN}/_matrix/client`;
  const transports = `${cs}/unstable/org.matrix.msc4143/rtc/transports`;
  const livekit = [{ type: 'livekit', livekit_service_url: FAKE_FOCUS }];
  return {
    [`GET ${wk}/client`]: {
      json: {
        'm.homeserver': { base_url: `https://${FAKE_DOMAIN}` },
        'org.matrix.msc4143.rtc_foci': livekit,
      },
    },
    [`GET ${wk}/server`]: { json: { 'm.server': `${FAKE_DOMAIN}:443` } },
    [`GET ${wk}/support`]: { json: { contacts: [{ role: 'm.role.admin' }] } },
    [`GET ${cs}/versions`]: { json: { versions: ['v1.1', 'v1.11'] } },
    [`POST ${cs}/v3/login`]: {
      json: { access_token: 'syt_doctor', user_id: FAKE_USER, device_id: 'DEV' },
    },
    [`POST ${cs}/v3/logout`]: { json: {} },
    [`GET ${cs}/v3/account/whoami`]: { json: { user_id: FAKE_USER, device_id: 'DEV' } },
    [`GET ${transports}`]: (init) =>
      new Headers(init.headers).has('authorization')
        ? { json: { rtc_transports: livekit } }
        : { status: 401, json: { errcode: 'M_MISSING_TOKEN', error: 'Missing token' } },
    [`OPTIONS ${transports}`]: { status: 204 },
    [`GET https://${FAKE_DOMAIN}/_matrix/federation/v1/openid/userinfo`]: {
      status: 401,
      json: { errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown token' },
    },
    [`GET ${FAKE_FOCUS}/healthz`]: { text: '', headers: { 'content-type': 'text/plain' } },
    [`POST ${cs}/v3/user/${encodeURIComponent(FAKE_USER)}/openid/request_token`]: {
      json: {
        access_token: 'openid',
        token_type: 'Bearer',
        matrix_server_name: FAKE_DOMAIN,
        expires_in: 3600,
      },
    },
    [`POST ${FAKE_FOCUS}/get_token`]: {
      json: { url: `wss://${FAKE_DOMAIN}/livekit/sfu`, jwt: 'header.payload.signature' },
    },
    [`GET https://${FAKE_DOMAIN}/livekit/sfu/rtc/validate`]: { text: 'success' },
    [`GET ${cs}/v3/voip/turnServer`]: {
      json: {
        username: '1700000000:@doctor:hi.example.org',
        password: 'pw',
        uris: [`turn:${FAKE_DOMAIN}:3478?transport=udp`, `turn:${FAKE_DOMAIN}:3478?transport=tcp`],
        ttl: 86400,
      },
    },
  };
}

/** A fetch answering from `routes` (CORS added to every answer), recording each request. */
export function fakeFetch(routes: Routes, log: string[] = []): typeof fetch {
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const key = `${init.method ?? 'GET'} ${url.origin}${url.pathname}`;
    log.push(key);
    const route = routes[key];
    if (route === undefined) {
      return Promise.resolve(
        new Response(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized' }), {
          status: 404,
          headers: { 'content-type': 'application/json', ...CORS },
        }),
      );
    }
    const answer = typeof route === 'function' ? route(init) : route;
    const body = answer.text ?? (answer.json === undefined ? null : JSON.stringify(answer.json));
    const status = answer.status ?? 200;
    return Promise.resolve(
      new Response(status === 204 ? null : body, {
        status,
        headers: { 'content-type': 'application/json', ...CORS, ...answer.headers },
      }),
    );
  };
}

/** The ICE servers the fake LiveKit's join response hands out: coturn over UDP and TCP. */
export const FAKE_LIVEKIT_ICE = [
  {
    urls: [`turn:${FAKE_DOMAIN}:3478?transport=udp`],
    username: '1900000000:PA_fake',
    credential: 'c',
  },
  {
    urls: [`turn:${FAKE_DOMAIN}:3478?transport=tcp`],
    username: '1900000000:PA_fake',
    credential: 'c',
  },
] as const;

/** A TURN relay check that succeeds, for deps. */
export const relayOk = (): Promise<TurnRelayCheck> =>
  Promise.resolve({ ok: true, step: 'done', roundTripMs: 3.2 });

/** Fake network deps over `routes`. */
export function fakeDeps(routes: Routes, overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    fetch: fakeFetch(routes),
    signalJoin: (): Promise<SignalJoin> =>
      Promise.resolve({
        ok: true,
        detail: 'join response',
        participantSid: 'PA_fake',
        iceServers: FAKE_LIVEKIT_ICE,
      }),
    turnRelay: relayOk,
    nonce: () => 'n0nce',
    sleep: () => Promise.resolve(),
    ...overrides,
  };
}

/** Settings for the fake domain, with a password login unless told otherwise. */
export function fakeSettings(overrides: Partial<DoctorSettings> = {}): DoctorSettings {
  return {
    domain: FAKE_DOMAIN,
    insecureHttp: false,
    timeoutMs: 2000,
    credentials: { user: FAKE_USER, password: 'secret' },
    ...overrides,
  };
}

/** A context for calling one check directly, with `found` pre-filled as earlier checks would. */
export function fakeContext(
  routes: Routes,
  found: Findings = {},
  overrides: { settings?: Partial<DoctorSettings>; deps?: Partial<DoctorDeps> } = {},
): DoctorContext {
  return {
    settings: fakeSettings(overrides.settings),
    deps: fakeDeps(routes, overrides.deps),
    found: { ...found },
  };
}

/** Well-known, client-server and transports URLs of the fake domain. */
export const WK = `https://${FAKE_DOMAIN}/.well-known/matrix`;
export const CS = `https://${FAKE_DOMAIN}/_matrix/client`;
export const TRANSPORTS = `${CS}/unstable/org.matrix.msc4143/rtc/transports`;
/** What the discovery checks find on the healthy fake deployment. */
export const FOUND = { baseUrl: `https://${FAKE_DOMAIN}`, wellKnownFoci: [FAKE_FOCUS] };

/** A session as {@link FAKE_USER}. */
export const SESSION = {
  accessToken: 'syt_doctor',
  userId: FAKE_USER,
  deviceId: 'DEV',
  ownLogin: true,
} as const;

/** Runs `check` on a context over the healthy routes with `changes` applied, as the runner would. */
export async function outcome(
  check: (ctx: DoctorContext) => Promise<CheckOutcome>,
  changes: Routes = {},
  found: Findings = {},
  settings: Partial<DoctorSettings> = {},
): Promise<{ result: CheckResult; ctx: DoctorContext }> {
  const ctx = fakeContext({ ...healthyRoutes(), ...changes }, found, { settings });
  const result = await runCheck('id', 'title', () => check(ctx));
  return { result, ctx };
}

/**
 * Runs `check` over the healthy routes with some deps replaced (a network that fails, a LiveKit
 * that never answers the join), for failures no canned HTTP answer can stage.
 */
export function outcomeWithDeps(
  check: (ctx: DoctorContext) => Promise<CheckOutcome>,
  deps: Partial<DoctorDeps>,
  found: Findings = {},
): Promise<CheckResult> {
  const ctx = fakeContext(healthyRoutes(), found, { deps });
  return runCheck('id', 'title', () => check(ctx));
}
