import { isExpired, jobKey } from '../stores/job-codec.ts';
import type { JobStore, StoredJob } from '../stores/job-store.ts';
import {
  type CsApi,
  type DelayedEventsClient,
  type DelayedLeaveParams,
  type JobClock,
  type JobOutcome,
  type ParticipantEvent,
  type ParticipantLookup,
  systemClock,
} from './leave-types.ts';
import {
  LEASE,
  type LeasePolicy,
  newRecord,
  onDue,
  onEvent,
  onLookup,
  onResult,
} from './leave-machine.ts';

/** Thrown by {@link DelayedLeaveJobs.register} once the service is shutting down. */
export class JobsClosedError extends Error {
  public constructor() {
    super('the delayed leave jobs are shut down');
    this.name = 'JobsClosedError';
  }
}

/** What {@link DelayedLeaveJobs} needs. */
export interface DelayedLeaveJobsDeps {
  readonly store: JobStore;
  readonly client: DelayedEventsClient;
  /**
   * Asks LiveKit whether a waiting job's participant has joined (`GetParticipant`), so a join
   * counts without a webhook. Default: nobody can tell (only webhooks count).
   */
  readonly lookup?: ParticipantLookup;
  /** A lookup was answered: present, confirmed absent, or unknown (for metrics). */
  readonly onLookup?: (present: boolean | undefined) => void;
  /** Finds the CS-API of a job that does not know it (one the reference service stored). */
  readonly resolveCsApi?: (serverName: string) => Promise<CsApi | undefined>;
  readonly clock?: JobClock;
  readonly onEnd?: (params: DelayedLeaveParams, outcome: JobOutcome) => void;
  /** A pass of the loop failed (the store is unreachable); it is tried again after `pollMs`. */
  readonly onError?: (err: unknown) => void;
  /** A pass of the loop went through (after failures: the store is back). */
  readonly onRecover?: () => void;
  /**
   * How often the store is looked at for work this process did not schedule itself (jobs made
   * due by another replica, leases run out). `Infinity` for a store only this process writes.
   */
  readonly pollMs?: number;
  /** How long a claimed job stays with its claimant; default `LEASE`. */
  readonly lease?: LeasePolicy;
}

/** Jobs claimed per pass; more follow at once. */
const BATCH = 100;
/** Node's timers overflow (and fire at once) beyond this. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Webhooks and the sanity check racing on one job retry their write this often. */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * The delegated delayed leave jobs, one per (LiveKit room, identity), on a {@link JobStore}: in
 * memory for a single replica, or in Redis shared by many. The state machine is the pure
 * `leave-machine`; this drives it. Participant events rewrite a job conditionally on the version
 * read, and due jobs are claimed atomically with a lease, so whichever replica receives a webhook
 * and whichever acts on it, each restart and send happens once (a send repeated after a crash
 * between call and write meets the homeserver's 404, which counts as done).
 */
export class DelayedLeaveJobs {
  private readonly store: JobStore;
  private readonly client: DelayedEventsClient;
  private readonly lookup: ParticipantLookup;
  private readonly onLookup: (present: boolean | undefined) => void;
  private readonly clock: JobClock;
  private readonly resolveCsApi: (serverName: string) => Promise<CsApi | undefined>;
  private readonly onEnd: (params: DelayedLeaveParams, outcome: JobOutcome) => void;
  private readonly onError: (err: unknown) => void;
  private readonly onRecover: () => void;
  private readonly pollMs: number;
  private readonly lease: LeasePolicy;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: unknown;
  /** The pass of the loop running now, or the last one. */
  private pass: Promise<void> = Promise.resolve();
  private ticking = false;
  private again = false;
  private closed = false;

  public constructor(deps: DelayedLeaveJobsDeps) {
    this.store = deps.store;
    this.client = deps.client;
    this.lookup = deps.lookup ?? (async () => undefined);
    this.onLookup = deps.onLookup ?? (() => undefined);
    this.clock = deps.clock ?? systemClock;
    this.resolveCsApi = deps.resolveCsApi ?? (async () => undefined);
    this.onEnd = deps.onEnd ?? (() => undefined);
    this.onError = deps.onError ?? (() => undefined);
    this.onRecover = deps.onRecover ?? (() => undefined);
    this.pollMs = deps.pollMs ?? Infinity;
    this.lease = deps.lease ?? LEASE;
  }

  /** Purges jobs the homeserver has certainly fired by now, then starts acting on the rest. */
  public async start(): Promise<void> {
    const now = this.clock.now();
    for (const job of await this.store.list()) {
      if (isExpired(job.record, now) && (await this.store.remove(job))) {
        this.onEnd(job.record.params, 'expired');
      }
    }
    this.wake();
  }

  /** Number of live jobs (in the store: every replica's). */
  public async count(): Promise<number> {
    return this.store.count();
  }

  /**
   * Starts (or replaces) the job of the member.
   * @throws {@link JobsClosedError} after {@link close}; the store's unavailability error.
   */
  public async register(params: DelayedLeaveParams): Promise<void> {
    if (this.closed) throw new JobsClosedError();
    const { replaced } = await this.store.put(
      jobKey(params.room, params.identity),
      newRecord(params, this.clock.now()),
    );
    if (replaced) this.onEnd(params, 'replaced');
    this.wake();
  }

  /** Feeds a participant event to its job; false when the member has none. */
  public async dispatch(room: string, identity: string, event: ParticipantEvent): Promise<boolean> {
    const key = jobKey(room, identity);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const job = await this.store.get(key);
      if (job === undefined) return false;
      const next = onEvent(job.record, event, this.clock.now());
      if (next === undefined) return true;
      if (typeof next === 'string') {
        if (await this.store.remove(job)) {
          this.onEnd(job.record.params, next);
          return true;
        }
      } else if (await this.store.update(job, next)) {
        this.wake();
        return true;
      }
    }
    return true;
  }

  /**
   * One pass of the sanity check (the reference's second lookup phase): asks `present` about
   * the participant of every connected job; one whose absence is confirmed is gone (a missed
   * departure webhook), and sends. An unknown answer changes nothing. Joins need no sweep:
   * waiting jobs look their participant up themselves.
   */
  public async sweep(present: ParticipantLookup): Promise<void> {
    const jobs = await this.store.list();
    await Promise.all(
      jobs.map(async ({ record: { state, params } }) => {
        if (state !== 'connected') return;
        if ((await present(params.room, params.identity)) === false) {
          await this.dispatch(params.room, params.identity, 'gone');
        }
      }),
    );
  }

  /**
   * Stops acting and waits for the calls in flight to be written back. Jobs stay in the store:
   * in Redis another replica (or the next start) carries on; in memory they end with the process.
   */
  public async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    // A pass may be claiming right now: what it claims is this process's until the lease runs
    // out, so it is acted on and written back before the store goes.
    await this.pass;
    await Promise.allSettled([...this.inFlight]);
    await this.store.close();
  }

  /** Runs a pass of the loop now (after a local change made something due). */
  private wake(): void {
    if (this.closed) return;
    this.disarm();
    this.run();
  }

  /** Starts a pass, or asks the running one to go again when it is done. */
  private run(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    this.pass = this.tick();
  }

  private async tick(): Promise<void> {
    this.again = false;
    let next: number | undefined;
    try {
      const now = this.clock.now();
      const claimed = await this.store.claimDue(now, this.lease, BATCH);
      for (const job of claimed) this.track(this.act(job));
      if (claimed.length === BATCH) this.again = true;
      next = await this.store.nextDue();
      this.onRecover();
    } catch (err) {
      this.onError(err);
    } finally {
      this.ticking = false;
    }
    if (this.closed) return;
    if (this.again) {
      this.wake();
      return;
    }
    const untilDue = next === undefined ? Infinity : Math.max(0, next - this.clock.now());
    const delay = Math.min(untilDue, this.pollMs);
    if (delay !== Infinity) {
      this.timer = this.clock.setTimeout(
        () => {
          this.timer = undefined;
          this.run();
        },
        Math.min(delay, MAX_TIMER_MS),
      );
    }
  }

  /**
   * Takes the due step of a claimed job and writes the result back, if the claim still holds.
   * Only the claimant acts, so across replicas each lookup and each homeserver call is made once.
   */
  private async act(job: StoredJob): Promise<void> {
    const { record, step } = onDue(job.record, this.clock.now());
    const { params } = record;
    if (step === 'lookup') {
      const present = await this.lookup(params.room, params.identity).catch(() => undefined);
      this.onLookup(present);
      const next = onLookup(record, present, this.clock.now(), this.clock.random());
      if (await this.store.update(job, next)) this.wake();
      return;
    }
    const action = step;
    const csApi =
      params.csApi ?? (await this.resolveCsApi(params.serverName).catch(() => undefined));
    const result =
      csApi === undefined
        ? ({ outcome: 'retry', reason: 'cs_api_unresolvable' } as const)
        : await this.client.call(csApi, params.delayId, action);
    const next = onResult(record, action, result, this.clock.now(), this.clock.random());
    if (typeof next === 'string') {
      if (await this.store.remove(job)) this.onEnd(params, next);
    } else if (await this.store.update(job, { ...next, params: { ...params, csApi } })) {
      this.wake();
    }
  }

  private track(work: Promise<void>): void {
    const settled = work.catch(this.onError).finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
