import {
  type DelayedEventsClient,
  type DelayedLeaveParams,
  DelayedLeaveJob,
  type JobClock,
  type JobOutcome,
  type ParticipantEvent,
} from './delayed-leave-job.ts';

/** Thrown by {@link DelayedLeaveJobs.register} once the service is shutting down. */
export class JobsClosedError extends Error {
  public constructor() {
    super('the delayed leave jobs are shut down');
    this.name = 'JobsClosedError';
  }
}

/**
 * The delegated delayed leave jobs of this process, one per (LiveKit room, identity), in
 * memory: they are lost on restart and not shared, so the service must run as a single replica
 * while it delegates. A new delegation for the same member replaces the old job, whose delay ID
 * then receives no further call.
 */
export class DelayedLeaveJobs {
  private readonly jobs = new Map<string, DelayedLeaveJob>();
  private readonly client: DelayedEventsClient;
  private readonly clock: JobClock | undefined;
  private readonly onEnd: (params: DelayedLeaveParams, outcome: JobOutcome) => void;
  private closed = false;

  public constructor(deps: {
    client: DelayedEventsClient;
    clock?: JobClock;
    onEnd?: (params: DelayedLeaveParams, outcome: JobOutcome) => void;
  }) {
    this.client = deps.client;
    this.clock = deps.clock;
    this.onEnd = deps.onEnd ?? (() => undefined);
  }

  /** Number of live jobs. */
  public get size(): number {
    return this.jobs.size;
  }

  /** @throws {@link JobsClosedError} after {@link close}. */
  public register(params: DelayedLeaveParams): void {
    if (this.closed) throw new JobsClosedError();
    const key = keyOf(params.room, params.identity);
    this.jobs.get(key)?.stop('replaced');
    const job = new DelayedLeaveJob(params, {
      client: this.client,
      ...(this.clock === undefined ? {} : { clock: this.clock }),
      onEnd: (ended, outcome) => {
        if (this.jobs.get(key) === ended) this.jobs.delete(key);
        this.onEnd(ended.params, outcome);
      },
    });
    this.jobs.set(key, job);
  }

  /** Routes a LiveKit participant event to its job; events for unknown members are dropped. */
  public dispatch(room: string, identity: string, event: ParticipantEvent): boolean {
    const job = this.jobs.get(keyOf(room, identity));
    job?.handle(event);
    return job !== undefined;
  }

  /** The job of a member, if any (for tests and the sanity check). */
  public get(room: string, identity: string): DelayedLeaveJob | undefined {
    return this.jobs.get(keyOf(room, identity));
  }

  /**
   * One pass of the sanity check: asks `present` about every job's participant. A waiting job
   * whose participant is there counts as joined (the webhook may have been missed); a connected
   * one whose absence is confirmed is gone, and sends. An unknown answer changes nothing.
   */
  public async sweep(
    present: (room: string, identity: string) => Promise<boolean | undefined>,
  ): Promise<void> {
    await Promise.all(
      [...this.jobs.values()].map(async (job) => {
        const { state } = job;
        if (state !== 'waiting' && state !== 'connected') return;
        const answer = await present(job.params.room, job.params.identity);
        if (answer === true && state === 'waiting') job.handle('joined');
        else if (answer === false && state === 'connected') job.handle('gone');
      }),
    );
  }

  /** Stops every job without calling the homeserver; later registrations fail. */
  public close(): void {
    this.closed = true;
    for (const job of [...this.jobs.values()]) job.stop('stopped');
  }
}

/** The reference's job key, `json([room, identity])`. */
function keyOf(room: string, identity: string): string {
  return JSON.stringify([room, identity]);
}
