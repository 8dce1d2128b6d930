import type { TurnRelayCheck } from '@rtc-sidecars/turn';

import { type CheckOutcome, CheckFailure, fail, pass, skip } from './doctor-check.ts';
import type { DoctorContext } from './doctor-context.ts';
import { asObject, describeAnswer, request, stringField } from './doctor-http.ts';
import { bearer, clientUrl, NO_CREDENTIALS } from './session-checks.ts';

/**
 * `/voip/turnServer`: the homeserver hands out time-limited TURN credentials and a JSON array of
 * URIs. A string instead of an array is the seed's comma-separated `TURN_URIS` mistake.
 */
export async function checkTurnServer(ctx: DoctorContext): Promise<CheckOutcome> {
  const session = ctx.found.session;
  if (session === undefined) return skip(NO_CREDENTIALS);
  const answer = await request(ctx.deps.fetch, clientUrl(ctx, '/voip/turnServer'), {
    headers: bearer(session),
    unreachable: 'homeserver-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const body = asObject(answer.json);
  if (answer.status !== 200 || body === undefined) {
    throw new CheckFailure('turn-not-configured', `/voip/turnServer: ${describeAnswer(answer)}`);
  }
  const uris: unknown = body.uris;
  if (uris === undefined || (Array.isArray(uris) && uris.length === 0)) {
    return fail('turn-not-configured', `/voip/turnServer: ${answer.text}`);
  }
  // The seed's mistake shows either as a string or as one array entry holding several URIs.
  if (
    !Array.isArray(uris) ||
    uris.some((u) => typeof u !== 'string' || u.includes(',') || !/^turns?:/.test(u))
  ) {
    return fail('turn-uris-not-array', `uris is ${JSON.stringify(uris)}`);
  }
  const username = stringField(body, 'username');
  const password = stringField(body, 'password');
  if (username === undefined || password === undefined) {
    return fail('turn-not-configured', `/voip/turnServer: ${answer.text}`);
  }
  const ttl = typeof body.ttl === 'number' ? body.ttl : 0;
  ctx.found.turn = { username, password, uris: uris as string[], ttl };
  return pass(
    `${uris.length} URI(s), credentials valid for ${ttl} s (legacy 1:1 calls; Element Call relays through LiveKit's TURN)`,
  );
}

/** A relay check's result as a doctor outcome; `secretProblem` names whose secret is wrong. */
function relayOutcome(
  result: TurnRelayCheck,
  secretProblem: 'turn-secret-mismatch' | 'livekit-turn-secret-mismatch',
): CheckOutcome {
  if (result.ok) {
    const relayed = result.relayed ? ` relay ${result.relayed.address}:${result.relayed.port}` : '';
    const rtt =
      result.roundTripUntestable !== undefined
        ? `, round trip not testable from here: ${result.roundTripUntestable}`
        : result.roundTripMs === undefined
          ? ''
          : `, round trip ${result.roundTripMs.toFixed(1)} ms`;
    return pass(`allocated${relayed}${rtt}`);
  }
  const error = result.error;
  const detail = `${result.step}: ${error?.message ?? 'failed'}`;
  if (error?.kind === 'error-response' && (error.code === 401 || error.code === 441)) {
    return fail(secretProblem, detail);
  }
  if (
    result.step === 'connect' ||
    error?.kind === 'network' ||
    (result.step === 'allocate' && error?.kind === 'timeout')
  ) {
    return fail('turn-unreachable', detail);
  }
  if (result.step === 'permission' || result.step === 'relay') {
    return fail('turn-relay-failed', detail);
  }
  return fail('unexpected', detail);
}

/**
 * One TURN URI from the homeserver, with its credentials: Allocate through the 401 challenge,
 * permission, and a datagram through the relay and back (packages/turn `checkTurnRelay`).
 */
export async function checkTurnRelayUri(ctx: DoctorContext, uri: string): Promise<CheckOutcome> {
  const turn = ctx.found.turn;
  if (turn === undefined) return skip('no TURN credentials');
  const result = await ctx.deps.turnRelay({
    uri,
    username: turn.username,
    password: turn.password,
    timeoutMs: ctx.settings.timeoutMs,
  });
  return relayOutcome(result, 'turn-secret-mismatch');
}

/**
 * What Element Call relays through: the ICE servers of LiveKit's join response (its
 * `rtc.turn_servers`, with credentials LiveKit signed for doctor's participant). Each TURN URI
 * gets an Allocate, permission and a round trip through the relay with exactly those
 * credentials; no TURN URI at all fails, since clients behind UDP-blocking firewalls or
 * symmetric NAT then have no relay.
 */
export async function checkLivekitTurn(ctx: DoctorContext): Promise<CheckOutcome> {
  const servers = ctx.found.livekitIceServers;
  if (servers === undefined) return skip('no join response from LiveKit');
  const turn = servers.flatMap((s) =>
    s.urls.filter((u) => /^turns?:/.test(u)).map((uri) => ({ uri, server: s })),
  );
  if (turn.length === 0) {
    const offered = servers.flatMap((s) => s.urls);
    return fail(
      'livekit-turn-missing',
      `the join response lists ${offered.length === 0 ? 'no ICE servers' : offered.join(', ')}`,
    );
  }
  const lines: string[] = [];
  for (const { uri, server } of turn) {
    const result = await ctx.deps.turnRelay({
      uri,
      username: server.username,
      password: server.credential,
      timeoutMs: ctx.settings.timeoutMs,
    });
    const outcome = relayOutcome(result, 'livekit-turn-secret-mismatch');
    if (outcome.status === 'fail') return fail(outcome.problem, `${uri}: ${outcome.detail}`);
    lines.push(`${uri} ${outcome.detail}`);
  }
  return pass(lines.join('; '));
}
