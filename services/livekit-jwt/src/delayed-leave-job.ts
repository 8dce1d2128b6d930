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

/** What LiveKit told us about the participant (from a webhook or the sanity check). */
export type ParticipantEvent = 'joined' | 'left_intentionally' | 'connection_aborted' | 'gone';

/** One delegation: whose leave event, how long its delay is, and where to reach the homeserver. */
export interface DelayedLeaveParams {
  readonly delayId: string;
  readonly delayTimeoutMs: number;
  readonly serverName: string;
  readonly csApi: CsApi;
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
  | 'stopped';

/** The job's state; `ended` once it has called `onEnd`. */
export type JobState = 'waiting' | 'connected' | 'sending' | 'ended';

/** A job never goes this long without contact, whatever `delay_timeout` says. */
export const MAX_UNCONTACTED_MS = 60 * 60 * 1000;
/** Restart at this fraction of `delay_timeout` after the previous successful restart. */
export const RESTART_FRACTION = 0.8;
const BACKOFF_INITIAL_MS = 1000;
const BACKOFF_FACTOR = 1.5;
const BACKOFF_MAX_MS = 60_000;
const MIN_SEND_WINDOW_MS = 1000;
/** Node's timers overflow (and fire at once) beyond this; a restart at least this often is harmless. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The delegated delayed leave of one (LiveKit room, identity), as in the reference's state
 * machine. Waiting for the first connection it only arms a timer of `min(1 h, delay_timeout)`,
 * after which it sends (the member never showed up). Once connected it restarts the delayed
 * event at once and then every 80 % of `delay_timeout`, so the homeserver never fires it; an
 * intentional leave, a dropped connection or a participant LiveKit no longer knows sends it.
 * A 404 on restart means the member already left or cancelled it (the job ends); a 404 on send
 * means it was already sent (done). Transient failures (429, 5xx, timeouts) are retried with
 * jittered exponential backoff, but never past the moment the homeserver would have fired the
 * event by itself, so no job outlives `min(1 h, delay_timeout)` without contact.
 */
export class DelayedLeaveJob {
  public readonly params: DelayedLeaveParams;
  private readonly client: DelayedEventsClient;
  private readonly clock: JobClock;
  private readonly onEnd: (job: DelayedLeaveJob, outcome: JobOutcome) => void;
  private currentState: JobState = 'waiting';
  private timer: unknown;
  /** Bumped on every transition, so a call that returns late cannot act on a newer state. */
  private generation = 0;

  public constructor(
    params: DelayedLeaveParams,
    deps: {
      client: DelayedEventsClient;
      clock?: JobClock;
      onEnd: (job: DelayedLeaveJob, outcome: JobOutcome) => void;
    },
  ) {
    this.params = params;
    this.client = deps.client;
    this.clock = deps.clock ?? systemClock;
    this.onEnd = deps.onEnd;
    this.arm(this.window(), () => {
      this.startSending();
    });
  }

  public get state(): JobState {
    return this.currentState;
  }

  /** Feeds a participant event into the state machine; ignored once the job has ended. */
  public handle(event: ParticipantEvent): void {
    switch (this.currentState) {
      case 'waiting':
        if (event === 'joined') this.connect();
        // A connection that never got established is not a departure: nothing to send.
        else if (event === 'connection_aborted') this.end('aborted_before_join');
        // 'left_intentionally' or 'gone' before joining: keep waiting for the first connection.
        return;
      case 'connected':
        if (event !== 'joined') this.startSending();
        return;
      case 'sending':
      case 'ended':
        return;
    }
  }

  /** Ends the job without any further homeserver call (replaced by a newer delegation, or shutdown). */
  public stop(outcome: 'replaced' | 'stopped'): void {
    if (this.currentState !== 'ended') this.end(outcome);
  }

  private window(): number {
    return Math.min(MAX_UNCONTACTED_MS, this.params.delayTimeoutMs);
  }

  private connect(): void {
    this.transition('connected');
    this.restart(this.clock.now() + this.window(), 0);
  }

  /** Restarts the delayed event; `deadline` is when the homeserver fires it if we never get through. */
  private restart(deadline: number, attempt: number): void {
    void this.call('restart', (result) => {
      if (result.outcome === 'ok') {
        const next = this.clock.now() + this.window();
        this.arm(this.params.delayTimeoutMs * RESTART_FRACTION, () => {
          this.restart(next, 0);
        });
      } else if (result.outcome === 'not_found') {
        this.end('event_gone');
      } else {
        this.retry(result, attempt, deadline, 'restart_failed', () => {
          this.restart(deadline, attempt + 1);
        });
      }
    });
  }

  private startSending(): void {
    this.transition('sending');
    const window = Math.min(
      MAX_UNCONTACTED_MS,
      Math.max(MIN_SEND_WINDOW_MS, this.params.delayTimeoutMs),
    );
    this.send(this.clock.now() + window, 0);
  }

  private send(deadline: number, attempt: number): void {
    void this.call('send', (result) => {
      // A 404 means the homeserver already sent it (its own timer fired) or it was cancelled.
      if (result.outcome !== 'retry') this.end('sent');
      else {
        this.retry(result, attempt, deadline, 'send_failed', () => {
          this.send(deadline, attempt + 1);
        });
      }
    });
  }

  private retry(
    result: { retryAfterMs?: number },
    attempt: number,
    deadline: number,
    failure: JobOutcome,
    again: () => void,
  ): void {
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** attempt);
    const jittered = exponential * (0.5 + this.clock.random());
    const delay = Math.max(jittered, result.retryAfterMs ?? 0);
    if (this.clock.now() + delay >= deadline) this.end(failure);
    else this.arm(delay, again);
  }

  private async call(
    action: 'restart' | 'send',
    then: (result: DelayedEventResult) => void,
  ): Promise<void> {
    const generation = this.generation;
    const result = await this.client.call(this.params.csApi, this.params.delayId, action);
    if (generation === this.generation) then(result);
  }

  private arm(ms: number, callback: () => void): void {
    this.disarm();
    const generation = this.generation;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        if (generation === this.generation) callback();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private transition(state: JobState): void {
    this.disarm();
    this.generation++;
    this.currentState = state;
  }

  private end(outcome: JobOutcome): void {
    this.transition('ended');
    this.onEnd(this, outcome);
  }
}
