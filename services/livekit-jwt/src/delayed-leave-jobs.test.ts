import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DelayedEventAction } from './delayed-leave-job.ts';
import { DelayedLeaveJobs, JobsClosedError } from './delayed-leave-jobs.ts';

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
    const jobs = new DelayedLeaveJobs({
      client: {
        call: async (_csApi, delayId, action) => {
          calls.push([delayId, action]);
          return { outcome: 'ok' };
        },
      },
    });
    return { jobs, calls };
  }

  it('should keep independent members apart and drop events for unknown ones', async () => {
    const { jobs, calls } = setup();
    jobs.register(params('a', 'ALICE'));
    jobs.register(params('b', 'BOB'));
    expect(jobs.dispatch('ROOM', 'ALICE', 'joined')).toBe(true);
    expect(jobs.dispatch('ROOM', 'CAROL', 'joined')).toBe(false);
    jobs.dispatch('ROOM', 'ALICE', 'left_intentionally');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['a', 'restart'],
      ['a', 'send'],
    ]);
    expect(jobs.size).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls.at(-1)).toEqual(['b', 'send']);
    expect(jobs.size).toBe(0);
  });

  it('should replace the job of the same member, whose old delay_id gets no call', async () => {
    const { jobs, calls } = setup();
    jobs.register(params('old'));
    jobs.register(params('new'));
    expect(jobs.size).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([['new', 'send']]);
  });

  it('should stop every job on close and refuse new ones', async () => {
    const { jobs, calls } = setup();
    jobs.register(params('a'));
    jobs.close();
    expect(() => {
      jobs.register(params('b'));
    }).toThrow(JobsClosedError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
  });

  it('should turn sanity check answers into joins and departures, ignoring unknown ones', async () => {
    const { jobs, calls } = setup();
    jobs.register(params('a', 'ALICE'));
    jobs.register(params('b', 'BOB'));
    const answers = new Map<string, boolean | undefined>([
      ['ALICE', true],
      ['BOB', undefined],
    ]);
    await jobs.sweep(async (_room, identity) => answers.get(identity));
    await vi.advanceTimersByTimeAsync(0);
    expect(jobs.get('ROOM', 'ALICE')?.state).toBe('connected');
    expect(jobs.get('ROOM', 'BOB')?.state).toBe('waiting');
    answers.set('ALICE', undefined);
    await jobs.sweep(async (_room, identity) => answers.get(identity));
    expect(jobs.get('ROOM', 'ALICE')?.state).toBe('connected');
    answers.set('ALICE', false);
    await jobs.sweep(async (_room, identity) => answers.get(identity));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['a', 'restart'],
      ['a', 'send'],
    ]);
  });
});
