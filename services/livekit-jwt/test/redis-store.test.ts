import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DelayedLeaveJobs } from '../src/delayed-leave/delayed-leave-jobs.ts';
import { encodeJob, jobKey } from '../src/stores/job-codec.ts';
import { JobStoreUnavailableError } from '../src/stores/job-store.ts';
import { LEASE, leaseOf, newRecord } from '../src/delayed-leave/leave-machine.ts';
import type { DelayedEventAction, JobOutcome } from '../src/delayed-leave/leave-types.ts';
import { RedisConnectError, RedisJobStore } from '../src/stores/redis-job-store.ts';
import { leaveParams } from './helpers.ts';

const PARAMS = leaveParams();

// The real redis-server: the Lua scripts, the claims and the reference's layout are only
// meaningful against it.
describe('RedisJobStore', () => {
  let server: RedisServer;
  let raw: Redis;
  const stores: RedisJobStore[] = [];
  const open = async () => {
    const store = await RedisJobStore.connect(server.url);
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    raw.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    await raw.flushall();
  });

  it('should write conditionally on the version read', async () => {
    const store = await open();
    const key = jobKey('ROOM', 'ID');
    expect(await store.put(key, newRecord(PARAMS, 1000))).toEqual({ replaced: false });
    const first = await store.get(key);
    expect(first?.record).toEqual(newRecord(PARAMS, 1000));
    const moved = { ...newRecord(PARAMS, 1000), state: 'connected' as const };
    expect(await store.update(first!, moved)).toBe(true);
    // A second write based on the same (now stale) read is refused, and so is a delete.
    expect(await store.update(first!, newRecord(PARAMS, 5))).toBe(false);
    expect(await store.remove(first!)).toBe(false);
    expect((await store.get(key))?.record.state).toBe('connected');
    expect(await store.put(key, newRecord(PARAMS, 2000))).toEqual({ replaced: true });
    expect(await store.count()).toBe(1);
    const latest = await store.get(key);
    expect(await store.remove(latest!)).toBe(true);
    expect(await store.count()).toBe(0);
    expect(await raw.zcard('lk-jwt:jobs:due')).toBe(0);
  });

  it('should hand each due job to exactly one of many concurrent claimants', async () => {
    const a = await open();
    const b = await open();
    for (let i = 0; i < 200; i++) {
      await a.put(jobKey('ROOM', `ID${i}`), { ...newRecord(PARAMS, 0), dueAt: i });
    }
    const lease = { minMs: 59_000, maxMs: 59_000, fraction: 0 };
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claimDue(1000, lease, 15)),
    );
    const keys = claims.flat().map((job) => job.key);
    expect(keys.length).toBe(200);
    expect(new Set(keys).size).toBe(200);
    // Leased: nobody sees them due again before the lease ends, everybody after.
    expect(await b.claimDue(59_999, lease, 500)).toEqual([]);
    expect((await a.claimDue(60_000, lease, 500)).length).toBe(200);
  });

  it('should lease each job for its share of delay_timeout, as leaseOf says', async () => {
    const store = await open();
    const timeouts = [1_000, 8_000, 40_000, 600_000];
    for (const delayTimeoutMs of timeouts) {
      const params = { ...PARAMS, delayTimeoutMs, identity: String(delayTimeoutMs) };
      await store.put(jobKey('ROOM', params.identity), { ...newRecord(params, 0), dueAt: 0 });
    }
    await store.claimDue(100, LEASE, 10);
    for (const delayTimeoutMs of timeouts) {
      const score = Number(
        await raw.zscore('lk-jwt:jobs:due', jobKey('ROOM', String(delayTimeoutMs))),
      );
      expect(score).toBe(100 + leaseOf(delayTimeoutMs));
    }
    // 1 s floor, 10 % in between, 15 s ceiling.
    expect(timeouts.map((t) => leaseOf(t))).toEqual([1000, 1000, 4000, 15_000]);
  });

  it('should fence a claimant whose lease ran out and was taken over', async () => {
    const a = await open();
    const b = await open();
    const key = jobKey('ROOM', 'ID');
    const lease = { minMs: 10, maxMs: 10, fraction: 0 };
    await a.put(key, { ...newRecord(PARAMS, 0), dueAt: 0 });
    const [first] = await a.claimDue(10, lease, 10);
    const [second] = await b.claimDue(30, lease, 10);
    expect(second?.key).toBe(key);
    expect(await a.remove(first!)).toBe(false);
    expect(await b.remove(second!)).toBe(true);
  });

  it('should resume a job the reference service stored, and skip values that are not jobs', async () => {
    const now = Date.now();
    const reference = JSON.stringify({
      Params: {
        DelayId: 'syd_go',
        DelayTimeout: 30_000_000_000,
        ServerName: 'example.com',
        LiveKitRoom: 'ROOM',
        LiveKitIdentity: 'GO',
      },
      RestartedAt: new Date(now - 1000).toISOString().replace('Z', '123456Z'),
    });
    await raw.hset('lk-jwt:jobs', jobKey('ROOM', 'GO'), reference, jobKey('ROOM', 'X'), '{"x":1');
    const store = await open();
    const jobs = await store.list();
    expect(jobs.map((j) => j.key)).toEqual([jobKey('ROOM', 'GO')]);
    expect(jobs[0]?.record).toMatchObject({
      state: 'waiting',
      params: { delayId: 'syd_go', delayTimeoutMs: 30_000, csApi: undefined, identity: 'GO' },
    });
    // Due at once (a participant lookup), so it is acted on even though the reference had no
    // due times; it waits for the member until the end of its delay at most.
    expect(Number(await raw.zscore('lk-jwt:jobs:due', jobKey('ROOM', 'GO')))).toBe(now - 1000);
    expect(jobs[0]?.record.deadline).toBe(now - 1000 + 30_000);
  });

  it('should purge expired jobs at start and resume the others with their homeserver calls', async () => {
    const now = Date.now();
    const expired = { ...newRecord({ ...PARAMS, delayId: 'old', identity: 'OLD' }, now - 20_000) };
    const alive = { ...newRecord({ ...PARAMS, delayId: 'alive' }, now - 9_000), dueAt: now - 1 };
    await raw.hset(
      'lk-jwt:jobs',
      jobKey('ROOM', 'OLD'),
      encodeJob(expired),
      jobKey('ROOM', 'ID'),
      encodeJob(alive),
    );
    const calls: [string, DelayedEventAction][] = [];
    const ended: [string, JobOutcome][] = [];
    const jobs = new DelayedLeaveJobs({
      store: await open(),
      client: {
        call: async (_csApi, delayId, action) => {
          calls.push([delayId, action]);
          return { outcome: 'ok' };
        },
      },
      onEnd: (params, outcome) => ended.push([params.delayId, outcome]),
      pollMs: 50,
    });
    await jobs.start();
    await expect.poll(() => ended, { timeout: 5000 }).toContainEqual(['alive', 'sent']);
    await jobs.close();
    expect(ended).toEqual([
      ['old', 'expired'],
      ['alive', 'sent'],
    ]);
    expect(calls).toEqual([['alive', 'send']]);
    expect(await raw.hlen('lk-jwt:jobs')).toBe(0);
  });

  it('should fail fast while Redis is away and work again once it is back', async () => {
    const store = await open();
    await server.kill();
    try {
      await expect(store.count()).rejects.toThrow(JobStoreUnavailableError);
    } finally {
      await server.start();
    }
    await expect.poll(() => store.count().catch(() => -1), { timeout: 10_000 }).toBe(0);
  });

  it('should refuse to start when Redis cannot be reached, without echoing the URL', async () => {
    const url = `redis://:hunter2@127.0.0.1:${server.port + 1}`;
    const error = await RedisJobStore.connect(url, 1000).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RedisConnectError);
    expect(String(error)).toMatch(/ECONNREFUSED|connect/);
    expect(String(error)).not.toContain('hunter2');
  });
});
