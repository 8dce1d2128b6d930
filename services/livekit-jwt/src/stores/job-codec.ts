import type { CsApi } from '../delayed-leave/leave-types.ts';
import { type LeaveRecord, type LeaveState, windowOf } from '../delayed-leave/leave-machine.ts';

/**
 * The reference's Redis field for a job: Go's `json.Marshal([room, identity])`. For the
 * strings LiveKit names are made of (base64url hashes and Matrix IDs) it is the same as
 * `JSON.stringify`; Go would escape `<`, `>` and `&`, which do not occur in them.
 */
export function jobKey(room: string, identity: string): string {
  return JSON.stringify([room, identity]);
}

/** The stored form: the reference's `{Params, RestartedAt}` plus our scheduling fields. */
interface StoredForm {
  Params: {
    DelayId: string;
    /** Go's `time.Duration`: nanoseconds. */
    DelayTimeout: number;
    ServerName: string;
    LiveKitRoom: string;
    LiveKitIdentity: string;
  };
  RestartedAt: string;
  State?: LeaveState;
  DueAt?: number;
  Deadline?: number;
  Attempt?: number;
  /** `Trusted` is read back as whatever the stored JSON holds: only `true` trusts. */
  CsApi?: { BaseUrl: string; Trusted: unknown };
}

/**
 * Encodes a job as the reference service stores it in its `lk-jwt:jobs` hash, with our fields
 * added (Go ignores unknown fields), so either service can resume the other's jobs.
 */
export function encodeJob(record: LeaveRecord): string {
  const { params } = record;
  const form: StoredForm = {
    Params: {
      DelayId: params.delayId,
      DelayTimeout: params.delayTimeoutMs * 1e6,
      ServerName: params.serverName,
      LiveKitRoom: params.room,
      LiveKitIdentity: params.identity,
    },
    RestartedAt: new Date(record.restartedAt).toISOString(),
    State: record.state,
    DueAt: record.dueAt,
    Deadline: record.deadline,
    Attempt: record.attempt,
    ...(params.csApi === undefined
      ? {}
      : { CsApi: { BaseUrl: params.csApi.baseUrl, Trusted: params.csApi.trusted } }),
  };
  return JSON.stringify(form);
}

/**
 * Decodes a stored job; `undefined` for a value that is not one (the reference skips those
 * too). A job the reference wrote has no state of ours: it resumes waiting for the member's
 * connection until `RestartedAt + min(1 h, delay_timeout)`, looking the participant up at once
 * (as the reference does with the jobs it resumes), so a member still in the call is found
 * connected and restarted.
 */
export function decodeJob(value: string): LeaveRecord | undefined {
  let form: Partial<StoredForm>;
  try {
    form = JSON.parse(value) as Partial<StoredForm>;
  } catch {
    return undefined;
  }
  const p = form.Params;
  const restartedAt = typeof form.RestartedAt === 'string' ? Date.parse(form.RestartedAt) : NaN;
  if (
    typeof p !== 'object' ||
    typeof p.DelayId !== 'string' ||
    typeof p.DelayTimeout !== 'number' ||
    !(p.DelayTimeout > 0) ||
    typeof p.ServerName !== 'string' ||
    typeof p.LiveKitRoom !== 'string' ||
    typeof p.LiveKitIdentity !== 'string' ||
    Number.isNaN(restartedAt)
  ) {
    return undefined;
  }
  const csApi: CsApi | undefined =
    typeof form.CsApi?.BaseUrl === 'string'
      ? { baseUrl: form.CsApi.BaseUrl, trusted: form.CsApi.Trusted === true }
      : undefined;
  const params = {
    delayId: p.DelayId,
    delayTimeoutMs: Math.ceil(p.DelayTimeout / 1e6),
    serverName: p.ServerName,
    csApi,
    room: p.LiveKitRoom,
    identity: p.LiveKitIdentity,
  };
  const state = form.State;
  if (state !== 'waiting' && state !== 'connected' && state !== 'sending') {
    const deadline = restartedAt + windowOf(params);
    return { params, state: 'waiting', dueAt: restartedAt, deadline, attempt: 0, restartedAt };
  }
  const dueAt = finite(form.DueAt) ?? restartedAt;
  return {
    params,
    state,
    dueAt,
    deadline: finite(form.Deadline) ?? restartedAt + windowOf(params),
    attempt: finite(form.Attempt) ?? 0,
    restartedAt,
  };
}

/**
 * True once the homeserver has certainly fired the event by itself (`RestartedAt +
 * delay_timeout` has passed, the reference's purge rule): acting on such a job is pointless.
 */
export function isExpired(record: LeaveRecord, now: number): boolean {
  return record.restartedAt + record.params.delayTimeoutMs < now;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
