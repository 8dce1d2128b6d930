import { type LeasePolicy, type LeaveRecord, leaseOf } from '../delayed-leave/leave-machine.ts';

/**
 * A job as read from a store: its key (`json([room, identity])`), its record and the version
 * the store gave it. Writes name the version they read, so a write based on a stale read (a
 * webhook handled elsewhere meanwhile, or a claim whose lease ran out) is refused.
 */
export interface StoredJob {
  readonly key: string;
  readonly record: LeaveRecord;
  readonly version: number;
}

/** The store refused an operation because it cannot be reached (Redis down). */
export class JobStoreUnavailableError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobStoreUnavailableError';
  }
}

/**
 * Where the delayed leave jobs live: in this process, or in Redis shared by every replica.
 * Every method may reject with {@link JobStoreUnavailableError}.
 */
export interface JobStore {
  /** Creates or replaces the job of `key` (a new delegation wins over the old one). */
  put(key: string, record: LeaveRecord): Promise<{ replaced: boolean }>;
  get(key: string): Promise<StoredJob | undefined>;
  /** Writes `record` if the job is still at `job.version`; false when it moved on or is gone. */
  update(job: StoredJob, record: LeaveRecord): Promise<boolean>;
  /** Deletes the job if it is still at `job.version`; false when it moved on or is gone. */
  remove(job: StoredJob): Promise<boolean>;
  /**
   * Atomically claims up to `limit` jobs due at `now`: each one's due time moves to the end of
   * its lease (`leaseOf`) and its version is bumped, so exactly one claimant can write its
   * result, and another replica takes the job over only once the lease has run out.
   */
  claimDue(now: number, lease: LeasePolicy, limit: number): Promise<StoredJob[]>;
  /** When the earliest job is due, if there is one. */
  nextDue(): Promise<number | undefined>;
  /** Every job (for the sanity check and the start-up purge). */
  list(): Promise<StoredJob[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** Jobs of this process only: lost on restart and not shared, so one replica must own them all. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, { record: LeaveRecord; version: number }>();
  private versions = 0;

  public async put(key: string, record: LeaveRecord): Promise<{ replaced: boolean }> {
    const replaced = this.jobs.has(key);
    this.jobs.set(key, { record, version: ++this.versions });
    return { replaced };
  }

  public async get(key: string): Promise<StoredJob | undefined> {
    const job = this.jobs.get(key);
    return job === undefined ? undefined : { key, ...job };
  }

  public async update(job: StoredJob, record: LeaveRecord): Promise<boolean> {
    if (this.jobs.get(job.key)?.version !== job.version) return false;
    this.jobs.set(job.key, { record, version: ++this.versions });
    return true;
  }

  public async remove(job: StoredJob): Promise<boolean> {
    if (this.jobs.get(job.key)?.version !== job.version) return false;
    return this.jobs.delete(job.key);
  }

  public async claimDue(now: number, lease: LeasePolicy, limit: number): Promise<StoredJob[]> {
    const claimed: StoredJob[] = [];
    for (const [key, job] of this.jobs) {
      if (claimed.length >= limit) break;
      if (job.record.dueAt > now) continue;
      const leaseUntil = now + leaseOf(job.record.params.delayTimeoutMs, lease);
      const next = { record: { ...job.record, dueAt: leaseUntil }, version: ++this.versions };
      this.jobs.set(key, next);
      // The claimant acts on the record as it was due, and owns the new version.
      claimed.push({ key, record: job.record, version: next.version });
    }
    return claimed;
  }

  public async nextDue(): Promise<number | undefined> {
    let next: number | undefined;
    for (const { record } of this.jobs.values()) {
      if (next === undefined || record.dueAt < next) next = record.dueAt;
    }
    return next;
  }

  public async list(): Promise<StoredJob[]> {
    return [...this.jobs].map(([key, job]) => ({ key, ...job }));
  }

  public async count(): Promise<number> {
    return this.jobs.size;
  }

  public async close(): Promise<void> {
    this.jobs.clear();
  }
}
