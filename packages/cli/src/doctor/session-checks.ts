import { type CheckOutcome, CheckFailure, pass, skip } from './doctor-check.ts';
import type { DoctorContext, Session } from './doctor-context.ts';
import { asObject, describeAnswer, joinUrl, request, stringField } from './doctor-http.ts';

/** Why a credentialed check did not run. */
export const NO_CREDENTIALS = 'needs --user/--password or --access-token';

/** The homeserver's client-server URL for `path`. */
export function clientUrl(ctx: DoctorContext, path: string): string {
  return joinUrl(
    ctx.found.baseUrl ?? `https://${ctx.settings.domain}`,
    `/_matrix/client/v3${path}`,
  );
}

/** Headers carrying the session's access token. */
export function bearer(session: Session): Record<string, string> {
  return { authorization: `Bearer ${session.accessToken}` };
}

/** The session, or a {@link CheckFailure}-free skip reason when there is none. */
export function requireSession(ctx: DoctorContext): Session {
  const session = ctx.found.session;
  if (session === undefined) throw new CheckFailure('login-failed', 'no Matrix session');
  return session;
}

/**
 * Logs in with `m.login.password` (doctor logs out again at the end) or checks the given access
 * token with whoami; the session feeds the transports, OpenID, TURN and presence checks.
 */
export async function checkLogin(ctx: DoctorContext): Promise<CheckOutcome> {
  const credentials = ctx.settings.credentials;
  if (credentials === undefined) return skip(NO_CREDENTIALS);
  const timeoutMs = ctx.settings.timeoutMs;
  if ('accessToken' in credentials) {
    const url = clientUrl(ctx, '/account/whoami');
    const answer = await request(ctx.deps.fetch, url, {
      headers: { authorization: `Bearer ${credentials.accessToken}` },
      unreachable: 'homeserver-unreachable',
      timeoutMs,
    });
    const body = asObject(answer.json);
    const userId = stringField(body, 'user_id');
    if (answer.status !== 200 || userId === undefined) {
      throw new CheckFailure('login-failed', `whoami: ${describeAnswer(answer)}`);
    }
    const deviceId = stringField(body, 'device_id') ?? 'RTCSIDECARSDOCTOR';
    ctx.found.session = { accessToken: credentials.accessToken, userId, deviceId, ownLogin: false };
    return pass(`access token of ${userId}`);
  }
  const answer = await request(ctx.deps.fetch, clientUrl(ctx, '/login'), {
    method: 'POST',
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: credentials.user },
      password: credentials.password,
      initial_device_display_name: 'rtc-sidecars doctor',
    },
    unreachable: 'homeserver-unreachable',
    timeoutMs,
  });
  const body = asObject(answer.json);
  const accessToken = stringField(body, 'access_token');
  const userId = stringField(body, 'user_id');
  const deviceId = stringField(body, 'device_id');
  if (answer.status !== 200 || !accessToken || !userId || !deviceId) {
    throw new CheckFailure(
      'login-failed',
      `login as ${credentials.user}: ${describeAnswer(answer)}`,
    );
  }
  ctx.found.session = { accessToken, userId, deviceId, ownLogin: true };
  return pass(`logged in as ${userId} (device ${deviceId})`);
}

/** Logs out the device doctor logged in with; a failure here is not a check of its own. */
export async function logout(ctx: DoctorContext): Promise<void> {
  const session = ctx.found.session;
  if (session?.ownLogin !== true) return;
  await request(ctx.deps.fetch, clientUrl(ctx, '/logout'), {
    method: 'POST',
    headers: bearer(session),
    body: {},
    unreachable: 'homeserver-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  }).catch(() => undefined);
}
