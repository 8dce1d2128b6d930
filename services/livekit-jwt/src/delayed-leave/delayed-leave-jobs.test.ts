import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DelayedLeaveJobs, JobsClosedError } from './delayed-leave-jobs.ts';
import { jobKey } from '../stores/job-codec.ts';
import { MemoryJobStore, type StoredJob } from '../stores/job-store.ts';
import type { LeasePolicy, LeaveRecord } from './leave-machine.ts';
import type { DelayedEventAction } from './leave-types.ts';

const params = (delayId: string, identity = 'ID') => ({
  delayId,
  delayTimeoutMs: 5_000,
  serverName: 'example.com',
  csApi: { baseUrl: 'https://hs', trusted: false },
  room: 'ROOM',
  identity,
});

describe('DelayedLeaveJobs', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const calls: [string, DelayedEventAction][] = [];
    const store = new MemoryJobStore();
    const jobs = new DelayedLeaveJobs({
      store,
      client: {
        call: async (_csApi, delayId, action) => {
          calls.push([delayId, action]);
          return { outcome: 'ok' };
        },
      },
    });
    const state = async (identity: string) =>
      (await store.get(jobKey('ROOM', identity)))?.record.state;
    return { jobs, calls, state };
  }

  it('should keep independent members apart and drop events for unknown ones', async () => {
    const { jobs, calls } = setup();
    await jobs.register(params('a', 'ALICE'));
    await jobs.register(params('b', 'BOB'));
    expect(await jobs.dispatch('ROOM', 'ALICE', 'joined')).toBe(true);
    expect(await jobs.dispatch('ROOM', 'CAROL', 'joined')).toBe(false);
    await jobs.dispatch('ROOM', 'ALICE', 'left_intentionally');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['a', 'restart'],
      ['a', 'send'],
    ]);
    expect(await jobs.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls.at(-1)).toEqual(['b', 'send']);
    expect(await jobs.count()).toBe(0);
  });

  it('should replace the job of the same member, whose old delay_id gets no call', async () => {
    const { jobs, calls } = setup();
    await jobs.register(params('old'));
    await jobs.register(params('new'));
    expect(await jobs.count()).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([['new', 'send']]);
  });

  it('should stop every job on close and refuse new ones', async () => {
    const { jobs, calls } = setup();
    await jobs.register(params('a'));
    await jobs.close();
    await expect(jobs.register(params('b'))).rejects.toThrow(JobsClosedError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
  });

  it('should act on and write back what a pass claims while closing, before the store closes', async () => {
    const log: string[] = [];
    // Claims like Redis does (at once, with a lease) but answers only when released.
    class HeldStore extends MemoryJobStore {
      public release: (() => void) | undefined;
      public hold = false;
      public override async claimDue(now: number, lease: LeasePolicy, limit: number) {
        const claimed = await super.claimDue(now, lease, limit);
        if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
        return claimed;
      }
      public override async update(job: StoredJob, record: LeaveRecord) {
        const done = await super.update(job, record);
        log.push(`update ${done}`);
        return done;
      }
      public override async close() {
        log.push('close');
        await super.close();
      }
    }
    const store = new HeldStore();
    const jobs = new DelayedLeaveJobs({
      store,
      client: {
        call: async (_csApi, _delayId, action) => {
          log.push(action);
          return { outcome: 'ok' };
        },
      },
    });
    await jobs.register(params('a'));
    await vi.advanceTimersByTimeAsync(0);
    store.hold = true;
    await jobs.dispatch('ROOM', 'ID', 'joined');
    await vi.advanceTimersByTimeAsync(0);
    // The pass has claimed the restart and is held: only what follows counts.
    expect(store.release).toBeDefined();
    log.length = 0;
    const closed = jobs.close();
    store.release?.();
    await closed;
    expect(log).toEqual(['restart', 'update true', 'close']);
  });

  it('should turn a confirmed absence of a connected member into a departure, ignoring unknown answers and waiting jobs', async () => {
    const { jobs, calls, state } = setup();
    await jobs.register(params('a', 'ALICE'));
    await jobs.register(params('b', 'BOB'));
    await jobs.dispatch('ROOM', 'ALICE', 'joined');
    await vi.advanceTimersByTimeAsync(0);
    const asked: string[] = [];
    const answers = new Map<string, boolean | undefined>([['ALICE', undefined]]);
    const sweep = () =>
      jobs.sweep(async (_room, identity) => {
        asked.push(identity);
        return answers.get(identity);
      });
    await sweep();
    expect(await state('ALICE')).toBe('connected');
    answers.set('ALICE', false);
    await sweep();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['a', 'restart'],
      ['a', 'send'],
    ]);
    // Bob's job looks its participant up by itself; the sweep is about departures only.
    expect(asked).toEqual(['ALICE', 'ALICE']);
    expect(await state('BOB')).toBe('waiting');
  });
});
