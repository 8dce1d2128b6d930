import {
  BROWSER_ORIGIN,
  livekitServiceUrls,
  requireSecureUrl,
  wellKnownUrl,
} from './discovery-checks.ts';
import { type CheckOutcome, CheckFailure, fail, pass } from './doctor-check.ts';
import type { DoctorContext } from './doctor-context.ts';
import { asObject, describeAnswer, joinUrl, request, stringField } from './doctor-http.ts';

/** The transports path Element Call 0.24+ asks (MSC4143, unstable prefix). */
export const TRANSPORTS_PATH = '/_matrix/client/unstable/org.matrix.msc4143/rtc/transports';

function allowsOrigin(headers: Headers): boolean {
  const allowed = headers.get('access-control-allow-origin');
  return allowed === '*' || allowed === BROWSER_ORIGIN;
}

/**
 * CORS as a browser needs it: `Access-Control-Allow-Origin` on the client document and on the
 * transports endpoint's answer (errors included), and a preflight that allows `Authorization`.
 */
export async function checkCors(ctx: DoctorContext): Promise<CheckOutcome> {
  const { fetch: fetchFn } = ctx.deps;
  const timeoutMs = ctx.settings.timeoutMs;
  const transports = joinUrl(
    ctx.found.baseUrl ?? `https://${ctx.settings.domain}`,
    TRANSPORTS_PATH,
  );
  const missing: string[] = [];
  for (const url of [wellKnownUrl(ctx.settings.domain, 'client'), transports]) {
    const answer = await request(fetchFn, url, {
      headers: { origin: BROWSER_ORIGIN },
      unreachable: 'domain-unreachable',
      timeoutMs,
    });
    if (!allowsOrigin(answer.headers)) missing.push(`GET ${new URL(url).pathname}`);
  }
  const preflight = await request(fetchFn, transports, {
    method: 'OPTIONS',
    headers: {
      origin: BROWSER_ORIGIN,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
    unreachable: 'domain-unreachable',
    timeoutMs,
  });
  const allowedHeaders = preflight.headers.get('access-control-allow-headers') ?? '';
  if (!allowsOrigin(preflight.headers) || !/authorization|\*/i.test(allowedHeaders)) {
    missing.push(`OPTIONS ${TRANSPORTS_PATH} (Authorization)`);
  }
  if (missing.length > 0) {
    return fail('cors-missing', `no Access-Control-Allow-Origin for ${missing.join(', ')}`);
  }
  return pass('Access-Control-Allow-Origin on discovery, transports and preflight');
}

/**
 * The MSC4143 transports endpoint. Without a session it must refuse with a Matrix 401 (which
 * proves something that knows the route answered); with one it must list a LiveKit focus that
 * agrees with the client document.
 */
export async function checkTransports(ctx: DoctorContext): Promise<CheckOutcome> {
  const url = joinUrl(ctx.found.baseUrl ?? `https://${ctx.settings.domain}`, TRANSPORTS_PATH);
  const session = ctx.found.session;
  const answer = await request(ctx.deps.fetch, url, {
    headers: {
      origin: BROWSER_ORIGIN,
      ...(session ? { authorization: `Bearer ${session.accessToken}` } : {}),
    },
    unreachable: 'domain-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const errcode = stringField(asObject(answer.json), 'errcode');
  if (answer.status === 404 || answer.status === 405 || errcode === 'M_UNRECOGNIZED') {
    return fail('transports-not-routed', `${TRANSPORTS_PATH}: ${describeAnswer(answer)}`);
  }
  if (session === undefined) {
    if (answer.status === 401 && errcode === 'M_MISSING_TOKEN') {
      return pass('routed (401 M_MISSING_TOKEN without a session; give credentials to read it)');
    }
    return fail('unexpected', `${TRANSPORTS_PATH} without a token: ${describeAnswer(answer)}`);
  }
  if (answer.status !== 200) {
    return fail('unexpected', `${TRANSPORTS_PATH}: ${describeAnswer(answer)}`);
  }
  const foci = livekitServiceUrls(asObject(answer.json)?.rtc_transports);
  if (foci.length === 0) return fail('transports-empty', `${TRANSPORTS_PATH}: ${answer.text}`);
  for (const focus of foci) requireSecureUrl(ctx, focus, 'transport livekit_service_url');
  ctx.found.transportFoci = foci;
  const known = ctx.found.wellKnownFoci;
  if (known !== undefined && !known.some((f) => foci.includes(f))) {
    return fail('foci-disagree', `transports ${foci.join(', ')} vs well-known ${known.join(', ')}`);
  }
  return pass(`LiveKit focus ${foci.join(', ')}`);
}

/** Host and port of a Matrix server address as `.well-known/matrix/server` gives it. */
export function federationOrigin(server: string): string {
  const bracketed = /^\[[^\]]+\](:\d+)?$/.test(server);
  const hasPort = bracketed ? /\]:\d+$/.test(server) : /:\d+$/.test(server);
  return `https://${hasPort ? server : `${server}:8448`}`;
}

/**
 * The federation OpenID userinfo route, the one livekit-jwt (and lk-jwt-service) asks: a made-up
 * token must get 401 `M_UNKNOWN_TOKEN`. A 403/404 means federation is disabled outright; no
 * answer means the federation port (8448 without a server document) is unreachable.
 */
export async function checkFederationOpenId(ctx: DoctorContext): Promise<CheckOutcome> {
  const origin = federationOrigin(ctx.found.server ?? ctx.settings.domain);
  const url = `${origin}/_matrix/federation/v1/openid/userinfo?access_token=rtc-sidecars-doctor-probe`;
  const answer = await request(ctx.deps.fetch, url, {
    unreachable: 'federation-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const errcode = stringField(asObject(answer.json), 'errcode');
  if (answer.status === 401 && errcode === 'M_UNKNOWN_TOKEN') {
    return pass(`${origin} answers OpenID userinfo`);
  }
  if (answer.status === 403 || answer.status === 404 || errcode === 'M_UNRECOGNIZED') {
    return fail('federation-disabled', `${origin}: ${describeAnswer(answer)}`);
  }
  throw new CheckFailure('federation-unreachable', `${origin}: ${describeAnswer(answer)}`);
}
