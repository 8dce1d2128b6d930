import { EventType, type MatrixClient, MatrixError } from 'matrix-js-sdk';
import type { SessionMembershipData } from 'matrix-js-sdk/lib/matrixrtc/index.js';
import type { LoggedIn } from './matrix-login.ts';

/** The state event type Element Call's MatrixRTC membership uses (`org.matrix.msc3401.call.member`). */
export const CALL_MEMBER = EventType.GroupCallMemberPrefix;

/** matrix-js-sdk's membership lifetime (`DEFAULT_EXPIRE_DURATION`, 4 h). */
const EXPIRES_MS = 4 * 60 * 60 * 1000;

/**
 * The state key matrix-js-sdk's MembershipManager gives a device's call membership in a room of
 * an ordinary version: `_<user>_<device>_m.call` (the leading `_` because only MSC3757/MSC3779
 * rooms let users own state keys that start with their ID).
 */
export function memberStateKey(user: LoggedIn): string {
  return `_${user.userId}_${user.deviceId}_m.call`;
}

/**
 * The membership content matrix-js-sdk's `makeMyMembership` writes for Element Call's room call
 * (slot `m.call#ROOM`, legacy LiveKit focus selection), with the LiveKit focus found in discovery.
 */
export function memberContent(
  user: LoggedIn,
  roomId: string,
  livekitServiceUrl: string,
): SessionMembershipData {
  return {
    application: 'm.call',
    call_id: '',
    scope: 'm.room',
    device_id: user.deviceId,
    membershipID: `${user.userId}:${user.deviceId}`,
    expires: EXPIRES_MS,
    'm.call.intent': 'video',
    focus_active: { type: 'livekit', focus_selection: 'oldest_membership' },
    foci_preferred: [
      { type: 'livekit', livekit_service_url: livekitServiceUrl, livekit_alias: roomId },
    ],
  };
}

/**
 * The content of the member's call membership in the room's current state on the homeserver,
 * `{}` once it left. Read through the client-server API, so it is what every other member sees.
 */
export async function currentMembership(
  client: MatrixClient,
  roomId: string,
  stateKey: string,
): Promise<Record<string, unknown>> {
  return (await client.getStateEvent(roomId, CALL_MEMBER, stateKey)) as Record<string, unknown>;
}

/**
 * When a still scheduled delayed event's delay last (re)started (`delayed_since_ts`, homeserver
 * clock in ms), or `undefined` once it was sent or cancelled.
 */
export async function delayedSince(
  client: MatrixClient,
  delayId: string,
): Promise<number | undefined> {
  try {
    return (await client._unstable_getDelayedEvent(delayId)).delayed_since_ts;
  } catch (err) {
    if (err instanceof MatrixError && err.httpStatus === 404) return undefined;
    throw err;
  }
}

/** Options for {@link until}. */
export interface UntilOptions {
  /** Upper bound; generous, it only keeps a broken run from hanging. */
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Extra text for the failure (service logs and the like), read only when it fails. */
  readonly diagnose?: () => Promise<string>;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, and returns that value with
 * the time it took. Homeserver state is polled, never waited for blindly with a sleep. A probe
 * that throws is retried (the last error is reported on timeout), so a rate-limited read or a
 * slow answer on a loaded machine does not end the wait early.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: UntilOptions,
): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: performance.now() - start };
    } catch (err) {
      lastError = err;
    }
    if (performance.now() - start > options.timeoutMs) {
      const last =
        lastError instanceof Error
          ? `; last error: ${lastError.message}`
          : lastError === undefined
            ? ''
            : `; last error: ${JSON.stringify(lastError)}`;
      const extra = options.diagnose ? `\n${await options.diagnose()}` : '';
      throw new Error(`no ${what} within ${options.timeoutMs} ms${last}${extra}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
