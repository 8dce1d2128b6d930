import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelayedLeaveJobs } from '../src/delayed-leave/delayed-leave-jobs.ts';
import type { JobStore } from '../src/stores/job-store.ts';
import type { DelayedEventAction } from '../src/delayed-leave/leave-types.ts';
import { RedisJobStore } from '../src/stores/redis-job-store.ts';
import { leaveParams } from './helpers.ts';

const PARAMS = leaveParams({ delayId: 'syd_takeover', delayTimeoutMs: 6_000 });

// A replica that dies in the middle of a homeserver call never writes its result back. Two
// schedulers share a real Redis; replica A's calls never return (as if its process were killed
// mid-call), and replica B must take the member's job over when A's lease ends, in time to
// restart the event before the homeserver would fire it (`delay_timeout` after the last restart).
describe('a replica dying mid-call', () => {
  let redis: RedisServer;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.allSettled(closers.map((close) => close()));
    await redis.stop();
  });

  it('should have its claimed job taken over by another replica before the event fires', async () => {
    const calls: { replica: string; action: DelayedEventAction; at: number }[] = [];
    let aAlive = true;
    let aDead = false;
    const hang = () => new Promise<never>(() => undefined);
    const replica = async (name: 'A' | 'B') => {
      const store = await RedisJobStore.connect(redis.url);
      // A dead process neither finishes its call nor claims anything again.
      const claimDue: JobStore['claimDue'] = async (...args) =>
        name === 'A' && aDead ? hang() : store.claimDue(...args);
      const jobs = new DelayedLeaveJobs({
        store: Object.assign(Object.create(store) as JobStore, { claimDue }),
        pollMs: 50,
        client: {
          call: async (_csApi, _delayId, action) => {
            calls.push({ replica: name, action, at: Date.now() });
            // A "dies" in the middle of its first call after the join.
            if (name === 'A' && !aAlive) {
              aDead = true;
              return hang();
            }
            return { outcome: 'ok' };
          },
        },
      });
      await jobs.start();
      return { jobs, store };
    };
    const a = await replica('A');
    closers.push(() => a.store.close());
    await a.jobs.register(PARAMS);
    await a.jobs.dispatch(PARAMS.room, PARAMS.identity, 'joined');
    await expect.poll(() => calls.length).toBe(1);
    const joinedAt = calls[0]!.at;
    // From now on A hangs on whatever it claims; only then does B start.
    aAlive = false;
    const b = await replica('B');
    closers.push(() => b.jobs.close());

    // The next restart is due 4 s after the last (6 s minus two 1 s leases); A claims it and
    // hangs; its lease runs out and B restarts, before the 6 s the homeserver waits.
    await expect
      .poll(() => calls.filter((c) => c.replica === 'B').length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    const firstByB = calls.find((c) => c.replica === 'B')!;
    expect(firstByB.action).toBe('restart');
    expect(firstByB.at - joinedAt).toBeLessThan(PARAMS.delayTimeoutMs);
    // B keeps the member alive on its own afterwards, at least once more per delay.
    await expect
      .poll(() => calls.filter((c) => c.replica === 'B').length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    const byB = calls.filter((c) => c.replica === 'B').map((c) => c.at);
    expect(byB[1]! - byB[0]!).toBeLessThan(PARAMS.delayTimeoutMs);
  });
});
