import type {
  DelayedEventAction,
  DelayedEventResult,
  DelayedLeaveParams,
  JobOutcome,
  ParticipantEvent,
} from './leave-types.ts';

/** Where a job stands: before the first connection, connected, or sending the leave. */
export type LeaveState = 'waiting' | 'connected' | 'sending';

/** What a due job does: a homeserver call, or asking LiveKit whether the member has joined. */
export type JobStep = DelayedEventAction | 'lookup';

/**
 * Everything about one delegated delayed leave that outlives a process: what to do next, when,
 * and until when retrying makes sense. Times are epoch milliseconds.
 */
export interface LeaveRecord {
  readonly params: DelayedLeaveParams;
  readonly state: LeaveState;
  /** When the next step is due: the next lookup or the waiting timeout, the next restart, or the (re)send. */
  readonly dueAt: number;
  /** When the homeserver fires the event by itself if we never get through: retries stop there. */
  readonly deadline: number;
  /** Failed attempts of the current action (while waiting: lookups so far), for the backoff. */
  readonly attempt: number;
  /** The last time the homeserver's timer was (re)started by the member or by us. */
  readonly restartedAt: number;
}

/** A job never goes this long without contact, whatever `delay_timeout` says. */
export const MAX_UNCONTACTED_MS = 60 * 60 * 1000;
/** Restart at this fraction of `delay_timeout` after the previous successful restart. */
export const RESTART_FRACTION = 0.8;
/**
 * A claim's lease: `fraction` of the job's `delay_timeout`, within [minMs, maxMs]. Stores apply
 * it per job (the Redis claim script evaluates the same formula in Lua).
 */
export interface LeasePolicy {
  readonly minMs: number;
  readonly maxMs: number;
  readonly fraction: number;
}

/**
 * How long a claimed job stays with its claimant before another replica may take it over:
 * 10 % of `delay_timeout`, between 1 s (longer than a homeserver call normally takes, so a
 * healthy claimant finishes inside it) and 15 s. A call that outlives it is repeated elsewhere
 * (restart and send are idempotent at the homeserver, but the repeat is wasted work).
 */
export const LEASE: LeasePolicy = Object.freeze({ minMs: 1000, maxMs: 15_000, fraction: 0.1 });

/** The lease of a job with this `delay_timeout` under `policy`. */
export function leaseOf(delayTimeoutMs: number, policy: LeasePolicy = LEASE): number {
  return Math.min(policy.maxMs, Math.max(policy.minMs, delayTimeoutMs * policy.fraction));
}

/**
 * Time from a successful restart to the next: 80 % of `delay_timeout` as the reference does, but
 * early enough that if the replica doing it dies, another one takes over when the lease ends and
 * still restarts before the homeserver fires the event (two leases before it); never less than
 * half the delay.
 */
export function restartIntervalOf(delayTimeoutMs: number): number {
  const beforeTakeover = delayTimeoutMs - 2 * leaseOf(delayTimeoutMs);
  return Math.max(delayTimeoutMs / 2, Math.min(delayTimeoutMs * RESTART_FRACTION, beforeTakeover));
}
const BACKOFF_INITIAL_MS = 1000;
const BACKOFF_FACTOR = 1.5;
const BACKOFF_MAX_MS = 60_000;
const MIN_SEND_WINDOW_MS = 1000;

/** The longest the member's event can go without a restart: `min(1 h, delay_timeout)`. */
export function windowOf(params: DelayedLeaveParams): number {
  return Math.min(MAX_UNCONTACTED_MS, params.delayTimeoutMs);
}

/**
 * A new delegation: waiting for the member's first connection for `min(1 h, delay_timeout)`,
 * after which the leave is sent (the member never showed up). Meanwhile LiveKit is asked about
 * the participant, at once and then with the backoff, as the reference does: the join is
 * noticed without a webhook.
 */
export function newRecord(params: DelayedLeaveParams, now: number): LeaveRecord {
  const deadline = now + windowOf(params);
  return { params, state: 'waiting', dueAt: now, deadline, attempt: 0, restartedAt: now };
}

/**
 * What a participant event does to a job: a new record, an end, or `undefined` for no change
 * (the reference's ignored pairs, so a replayed or late webhook writes nothing).
 */
export function onEvent(
  record: LeaveRecord,
  event: ParticipantEvent,
  now: number,
): LeaveRecord | JobOutcome | undefined {
  switch (record.state) {
    case 'waiting':
      if (event === 'joined') return joined(record, now);
      // A connection that never got established is not a departure: nothing to send.
      if (event === 'connection_aborted') return 'aborted_before_join';
      // An intentional leave or a missing participant before joining: keep waiting.
      return undefined;
    case 'connected':
      return event === 'joined' ? undefined : sending(record, now);
    case 'sending':
      return undefined;
  }
}

/**
 * The step a due job takes. A waiting job looks the participant up, or, once its time is up,
 * starts sending (the member never connected); a connected one restarts its event; a sending
 * one (re)sends.
 */
export function onDue(record: LeaveRecord, now: number): { record: LeaveRecord; step: JobStep } {
  switch (record.state) {
    case 'waiting':
      return now >= record.deadline
        ? { record: sending(record, now), step: 'send' }
        : { record, step: 'lookup' };
    case 'connected':
      return { record, step: 'restart' };
    case 'sending':
      return { record, step: 'send' };
  }
}

/**
 * What a participant lookup does to a waiting job. Present counts as joined (the reference's
 * successful lookup): the event is restarted at once. Absent or unknown: ask again after the
 * backoff (1 s, ×1.5, ±50 %, at most 60 s), but not past the end of the wait, when the leave is
 * sent instead. A job that moved on meanwhile is left as it is.
 */
export function onLookup(
  record: LeaveRecord,
  present: boolean | undefined,
  now: number,
  random: number,
): LeaveRecord {
  if (record.state !== 'waiting') return record;
  if (present === true) return joined(record, now);
  const next = now + backoffDelay(record.attempt, random);
  return { ...record, dueAt: Math.min(next, record.deadline), attempt: record.attempt + 1 };
}

/**
 * What a homeserver answer does to a job. A restart that went through schedules the next one at
 * 80 % of `delay_timeout`; a 404 on restart means the member already left or cancelled (the job
 * ends); a send that went through, or a 404 on send (already sent), is done. Transient failures
 * back off with jitter, but never past the moment the homeserver would fire the event itself.
 */
export function onResult(
  record: LeaveRecord,
  action: DelayedEventAction,
  result: DelayedEventResult,
  now: number,
  random: number,
): LeaveRecord | JobOutcome {
  if (action === 'send') {
    if (result.outcome !== 'retry') return 'sent';
    return backoff(record, result, now, random, 'send_failed');
  }
  if (result.outcome === 'not_found') return 'event_gone';
  if (result.outcome === 'retry') return backoff(record, result, now, random, 'restart_failed');
  return {
    ...record,
    dueAt: now + restartIntervalOf(record.params.delayTimeoutMs),
    deadline: now + windowOf(record.params),
    attempt: 0,
    restartedAt: now,
  };
}

/** Connected: restart at once, the member's own timer has been running since it joined. */
function joined(record: LeaveRecord, now: number): LeaveRecord {
  return {
    ...record,
    state: 'connected',
    dueAt: now,
    deadline: now + windowOf(record.params),
    attempt: 0,
  };
}

/** A job whose member left: send now, retrying for `min(1 h, max(1 s, delay_timeout))`. */
function sending(record: LeaveRecord, now: number): LeaveRecord {
  const window = Math.min(
    MAX_UNCONTACTED_MS,
    Math.max(MIN_SEND_WINDOW_MS, record.params.delayTimeoutMs),
  );
  return { ...record, state: 'sending', dueAt: now, deadline: now + window, attempt: 0 };
}

function backoff(
  record: LeaveRecord,
  result: { readonly retryAfterMs?: number },
  now: number,
  random: number,
  failure: JobOutcome,
): LeaveRecord | JobOutcome {
  const delay = Math.max(backoffDelay(record.attempt, random), result.retryAfterMs ?? 0);
  if (now + delay >= record.deadline) return failure;
  return { ...record, dueAt: now + delay, attempt: record.attempt + 1 };
}

/** The wait before try `attempt + 1`: 1 s × 1.5^attempt, at most 60 s, ±50 % (`random` in [0, 1)). */
function backoffDelay(attempt: number, random: number): number {
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** attempt);
  return exponential * (0.5 + random);
}
