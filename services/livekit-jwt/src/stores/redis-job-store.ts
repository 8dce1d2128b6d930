import { Redis } from 'ioredis';
import { decodeJob, encodeJob } from './job-codec.ts';
import { type JobStore, JobStoreUnavailableError, type StoredJob } from './job-store.ts';
import type { LeasePolicy, LeaveRecord } from '../delayed-leave/leave-machine.ts';
import { CLAIM, GET, PUT, REMOVE, UPDATE } from './redis-scripts.ts';

/** The reference's hash of jobs; our version counters and due times sit beside it. */
const JOBS = 'lk-jwt:jobs';
const VERSIONS = 'lk-jwt:jobs:version';
const DUE = 'lk-jwt:jobs:due';
const KEYS = [JOBS, VERSIONS, DUE] as const;

/** Thrown by {@link RedisJobStore.connect} when Redis cannot be reached at start-up. */
export class RedisConnectError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedisConnectError';
  }
}

/**
 * Every command the store sends, for operators of a restricted Redis (README): the connection
 * itself needs only `AUTH` (with a password) and `SELECT` (with a database other than 0); no
 * `HELLO`, `INFO` or `CLIENT`, which managed and proxy offerings often refuse.
 */
export const REDIS_COMMANDS = Object.freeze({
  client: ['PING', 'EVAL', 'ZRANGE', 'ZADD', 'HGETALL', 'HLEN', 'QUIT'],
  scripts: ['HEXISTS', 'HGET', 'HSET', 'HDEL', 'HINCRBY', 'ZADD', 'ZREM', 'ZRANGEBYSCORE'],
});

/**
 * Jobs in Redis, shared by every replica and kept across restarts. Each operation is one Lua
 * script, so it is atomic: a version counter per job makes writes conditional on what was read,
 * and a sorted set of due times hands each due job to exactly one replica (the claim moves it
 * out by a lease). Commands fail fast while Redis is away (no offline queue), as
 * {@link JobStoreUnavailableError}; the client keeps reconnecting in the background. Only the
 * commands of {@link REDIS_COMMANDS} are sent.
 */
export class RedisJobStore implements JobStore {
  private readonly redis: Redis;

  private constructor(redis: Redis) {
    this.redis = redis;
  }

  /**
   * Connects and PINGs, as the reference does at start-up, then gives jobs the reference wrote
   * (no due time of ours) one, so they are resumed.
   * @throws {@link RedisConnectError} naming the cause (never the URL: it may hold a password).
   */
  public static async connect(url: string, timeoutMs = 5000): Promise<RedisJobStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      // Keep trying while running; start-up gives up after the first failure below.
      retryStrategy: (times) => Math.min(times * 200, 2000),
      // Nothing but the store's own commands and PING, as the reference: no INFO ready check,
      // no HELLO (RESP2 from the start), no CLIENT SETINFO. Restricted Redis offerings refuse
      // those, and a refused ready check would stop the service at start.
      enableReadyCheck: false,
      protocol: 2,
      disableClientInfo: true,
    });
    // Connection errors surface through commands; without a listener they would be thrown.
    // The last one is kept: the failed command itself only says "Connection is closed".
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => {
      lastError = err;
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      const cause = lastError ?? err;
      throw new RedisConnectError(cause instanceof Error ? cause.message : String(cause), {
        cause,
      });
    }
    const store = new RedisJobStore(redis);
    await store.adopt();
    return store;
  }

  public async put(key: string, record: LeaveRecord): Promise<{ replaced: boolean }> {
    const [existed] = (await this.run(PUT, key, encodeJob(record), record.dueAt)) as [number];
    return { replaced: existed === 1 };
  }

  public async get(key: string): Promise<StoredJob | undefined> {
    const found = (await this.run(GET, key)) as [string, string] | null;
    if (found === null) return undefined;
    const record = decodeJob(found[0]);
    return record === undefined ? undefined : { key, record, version: Number(found[1]) };
  }

  public async update(job: StoredJob, record: LeaveRecord): Promise<boolean> {
    const done = await this.run(UPDATE, job.key, job.version, encodeJob(record), record.dueAt);
    return done !== 0;
  }

  public async remove(job: StoredJob): Promise<boolean> {
    return (await this.run(REMOVE, job.key, job.version)) === 1;
  }

  public async claimDue(now: number, lease: LeasePolicy, limit: number): Promise<StoredJob[]> {
    const { minMs, maxMs, fraction } = lease;
    const flat = (await this.run(CLAIM, now, limit, minMs, maxMs, fraction)) as (string | number)[];
    const claimed: StoredJob[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const key = String(flat[i]);
      const version = Number(flat[i + 2]);
      const record = decodeJob(String(flat[i + 1]));
      // Nothing can be done with an unreadable entry: drop it rather than claim it forever.
      if (record === undefined) await this.run(REMOVE, key, version);
      else claimed.push({ key, record, version });
    }
    return claimed;
  }

  public async nextDue(): Promise<number | undefined> {
    const first = await this.guard(() => this.redis.zrange(DUE, '0', '0', 'WITHSCORES'));
    return first[1] === undefined ? undefined : Number(first[1]);
  }

  public async list(): Promise<StoredJob[]> {
    const [jobs, versions] = await this.guard(async () =>
      Promise.all([this.redis.hgetall(JOBS), this.redis.hgetall(VERSIONS)]),
    );
    const out: StoredJob[] = [];
    for (const [key, value] of Object.entries(jobs)) {
      const record = decodeJob(value);
      if (record !== undefined) out.push({ key, record, version: Number(versions[key] ?? 0) });
    }
    return out;
  }

  public async count(): Promise<number> {
    return this.guard(() => this.redis.hlen(JOBS));
  }

  public async close(): Promise<void> {
    await this.redis.quit().catch(() => {
      this.redis.disconnect();
    });
  }

  /** Schedules jobs without a due time (written by the reference service, which has none). */
  private async adopt(): Promise<void> {
    // One ZADD for all of them, not a round trip per job: this runs before the service listens.
    const members = (await this.list()).flatMap((job) => [String(job.record.dueAt), job.key]);
    if (members.length > 0) await this.guard(() => this.redis.zadd(DUE, 'NX', ...members));
  }

  private async run(script: string, ...args: (string | number)[]): Promise<unknown> {
    return this.guard(() => this.redis.eval(script, KEYS.length, ...KEYS, ...args.map(String)));
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new JobStoreUnavailableError(`Redis: ${reason}`, { cause: err });
    }
  }
}
