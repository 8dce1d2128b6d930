/** The two MSC4140 actions the service performs on a member's delayed leave event. */
export type DelayedEventAction = 'restart' | 'send';

/** What a homeserver call came to: done, the delayed event is unknown, or worth retrying. */
export type DelayedEventResult =
  | { readonly outcome: 'ok' }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'retry'; readonly reason: string; readonly retryAfterMs?: number };

/** Calls `…/delayed_events/<delay_id>/<action>` on a client-server API; never rejects. */
export interface DelayedEventsClient {
  call(csApi: CsApi, delayId: string, action: DelayedEventAction): Promise<DelayedEventResult>;
}

/** A homeserver's client-server API base URL; `trusted` when it came from the operator's overrides. */
export interface CsApi {
  readonly baseUrl: string;
  readonly trusted: boolean;
}

/** Time and randomness, injected so tests can drive the job with fake timers. */
export interface JobClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1) for backoff jitter. */
  random(): number;
}

/** The real clock. */
export const systemClock: JobClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
  random: () => Math.random(),
};

/**
 * Asks LiveKit (`GetParticipant`) whether the participant is in the room: true, false when it
 * confirms absence, undefined when it could not tell. Never rejects.
 */
export type ParticipantLookup = (room: string, identity: string) => Promise<boolean | undefined>;

/** What LiveKit told us about the participant (from a webhook or the sanity check). */
export type ParticipantEvent = 'joined' | 'left_intentionally' | 'connection_aborted' | 'gone';

/** One delegation: whose leave event, how long its delay is, and where to reach the homeserver. */
export interface DelayedLeaveParams {
  readonly delayId: string;
  readonly delayTimeoutMs: number;
  readonly serverName: string;
  /**
   * Where to reach the homeserver; resolved again before the next call when unknown (a job
   * written by the reference service, which does not store it).
   */
  readonly csApi: CsApi | undefined;
  /** LiveKit room name and participant identity, as in the minted token. */
  readonly room: string;
  readonly identity: string;
}

/** How a job ended, for logs and metrics. */
export type JobOutcome =
  | 'sent'
  | 'send_failed'
  | 'aborted_before_join'
  | 'event_gone'
  | 'restart_failed'
  | 'replaced'
  | 'expired'
  | 'stopped';
