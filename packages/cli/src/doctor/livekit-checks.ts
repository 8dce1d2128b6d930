import { type CheckOutcome, CheckFailure, fail, pass, skip } from './doctor-check.ts';
import { type DoctorContext, focusUrl } from './doctor-context.ts';
import {
  asObject,
  describeAnswer,
  joinUrl,
  request,
  statusProblem,
  stringField,
} from './doctor-http.ts';
import { bearer, clientUrl, NO_CREDENTIALS } from './session-checks.ts';
import { signalUrl } from './signal-join.ts';

/** The MatrixRTC slot Element Call uses for a room call. */
export const CALL_SLOT = 'm.call#ROOM';

const NO_FOCUS = 'no LiveKit focus was discovered';

/** livekit-jwt's `/healthz` under the discovered focus URL. */
export async function checkJwtHealth(ctx: DoctorContext): Promise<CheckOutcome> {
  const focus = focusUrl(ctx.found);
  if (focus === undefined) return skip(NO_FOCUS);
  const url = joinUrl(focus, '/healthz');
  const answer = await request(ctx.deps.fetch, url, {
    unreachable: 'jwt-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  if (answer.status !== 200) {
    return fail(
      statusProblem(answer.status, 'jwt-not-routed', 'jwt-unreachable'),
      `${url}: ${describeAnswer(answer)}`,
    );
  }
  return pass(url);
}

/**
 * The round trip Element Call makes: an OpenID token from the homeserver, exchanged at
 * livekit-jwt's `/get_token` (which verifies it with the homeserver) for a LiveKit URL and JWT.
 */
export async function checkGetToken(ctx: DoctorContext): Promise<CheckOutcome> {
  const session = ctx.found.session;
  if (session === undefined) return skip(NO_CREDENTIALS);
  const focus = focusUrl(ctx.found);
  if (focus === undefined) return skip(NO_FOCUS);
  const timeoutMs = ctx.settings.timeoutMs;
  const openIdUrl = clientUrl(
    ctx,
    `/user/${encodeURIComponent(session.userId)}/openid/request_token`,
  );
  const openId = await request(ctx.deps.fetch, openIdUrl, {
    method: 'POST',
    headers: bearer(session),
    body: {},
    unreachable: 'homeserver-unreachable',
    timeoutMs,
  });
  const token = asObject(openId.json);
  if (openId.status !== 200 || stringField(token, 'access_token') === undefined) {
    throw new CheckFailure('unexpected', `OpenID request_token: ${describeAnswer(openId)}`);
  }
  const serverName = session.userId.slice(session.userId.indexOf(':') + 1);
  const url = joinUrl(focus, '/get_token');
  const answer = await request(ctx.deps.fetch, url, {
    method: 'POST',
    body: {
      room_id: `!rtc-sidecars-doctor-${ctx.deps.nonce()}:${serverName}`,
      slot_id: CALL_SLOT,
      openid_token: token,
      member: {
        id: `doctor-${ctx.deps.nonce()}`,
        claimed_user_id: session.userId,
        claimed_device_id: session.deviceId,
      },
    },
    unreachable: 'jwt-unreachable',
    timeoutMs,
  });
  const body = asObject(answer.json);
  const livekitUrl = stringField(body, 'url');
  const jwt = stringField(body, 'jwt');
  if (answer.status === 200 && livekitUrl !== undefined && jwt !== undefined) {
    ctx.found.livekit = { url: livekitUrl, jwt };
    const scheme = new URL(livekitUrl).protocol;
    if (scheme !== 'wss:' && !(scheme === 'ws:' && ctx.settings.insecureHttp)) {
      return fail('livekit-url-not-wss', `livekit-jwt returned ${livekitUrl}`);
    }
    return pass(`OpenID verified, JWT for ${livekitUrl}`);
  }
  const detail = `${url}: ${describeAnswer(answer)}`;
  if (answer.status === 401) return fail('openid-error', detail);
  if (answer.status === 500 && /create room/i.test(stringField(body, 'error') ?? '')) {
    return fail('livekit-secret-mismatch', detail);
  }
  return fail(statusProblem(answer.status, 'jwt-not-routed', 'jwt-unreachable'), detail);
}

/**
 * The minted token against LiveKit itself: `/rtc/validate` (which names the reason for a refused
 * token), then a real join over the signalling WebSocket, left at once.
 */
export async function checkLivekitJoin(ctx: DoctorContext): Promise<CheckOutcome> {
  const livekit = ctx.found.livekit;
  if (livekit === undefined) {
    return skip(ctx.found.session === undefined ? NO_CREDENTIALS : 'no LiveKit token was minted');
  }
  const validate = new URL(signalUrl(livekit.url, livekit.jwt));
  validate.protocol = validate.protocol === 'wss:' ? 'https:' : 'http:';
  validate.pathname += '/validate';
  const answer = await request(ctx.deps.fetch, validate.toString(), {
    unreachable: 'livekit-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const shown = `${validate.origin}${validate.pathname}`;
  if (answer.status === 401) {
    return fail('livekit-secret-mismatch', `${shown}: ${describeAnswer(answer)}`);
  }
  if (answer.status !== 200) {
    return fail(
      answer.status === 404 || answer.status >= 500 ? 'livekit-unreachable' : 'unexpected',
      `${shown}: ${describeAnswer(answer)}`,
    );
  }
  const joined = await ctx.deps.signalJoin(
    signalUrl(livekit.url, livekit.jwt),
    ctx.settings.timeoutMs,
  );
  if (!joined.ok) return fail('livekit-unreachable', `${livekit.url}: ${joined.detail}`);
  ctx.found.livekitIceServers = joined.iceServers;
  return pass(`token accepted, ${joined.detail}`);
}
