import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DelayedLeaveJobs } from './delayed-leave-jobs.ts';
import { leaseOf, restartIntervalOf } from './leave-machine.ts';
import { jobKey } from '../stores/job-codec.ts';
import { MemoryJobStore } from '../stores/job-store.ts';
import type {
  DelayedEventAction,
  DelayedEventResult,
  JobClock,
  JobOutcome,
  ParticipantEvent,
} from './leave-types.ts';

const PARAMS = {
  delayId: 'syd_abc',
  delayTimeoutMs: 10_000,
  serverName: 'example.com',
  csApi: { baseUrl: 'https://matrix.example.com', trusted: false },
  room: 'ROOM',
  identity: 'IDENTITY',
};

/** The fake timers' clock, with jitter fixed at its middle (factor 1). */
const clock: JobClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
  random: () => 0.5,
};

/**
 * One member's job, driven through the scheduler on the memory store, as the service runs it.
 * `present` answers its participant lookups (default: LiveKit cannot tell).
 */
async function setup(
  answer: (action: DelayedEventAction) => DelayedEventResult = () => ({ outcome: 'ok' }),
  delayTimeoutMs = PARAMS.delayTimeoutMs,
  present: (elapsedMs: number) => boolean | undefined = () => undefined,
) {
  const calls: { action: DelayedEventAction; at: number }[] = [];
  /** When the participant was looked up, in ms since the delegation. */
  const lookups: number[] = [];
  /** The delay ID of each call, in order. */
  const ids: string[] = [];
  const outcomes: JobOutcome[] = [];
  const start = Date.now();
  const store = new MemoryJobStore();
  const jobs = new DelayedLeaveJobs({
    store,
    client: {
      call: async (_csApi, delayId, action) => {
        calls.push({ action, at: Date.now() - start });
        ids.push(delayId);
        return answer(action);
      },
    },
    lookup: async () => {
      lookups.push(Date.now() - start);
      return present(Date.now() - start);
    },
    clock,
    onEnd: (_params, outcome) => outcomes.push(outcome),
  });
  await jobs.register({ ...PARAMS, delayTimeoutMs });
  const job = {
    handle: async (event: ParticipantEvent) => jobs.dispatch(PARAMS.room, PARAMS.identity, event),
    state: async () => (await store.get(jobKey(PARAMS.room, PARAMS.identity)))?.record.state,
  };
  return { jobs, job, calls, ids, outcomes, lookups };
}

describe('the delayed leave state machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should send once delay_timeout passes without the participant ever joining', async () => {
    const { calls, outcomes } = await setup();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([{ action: 'send', at: 10_000 }]);
    expect(outcomes).toEqual(['sent']);
  });

  it('should find the participant through GetParticipant without any webhook and restart repeatedly', async () => {
    const { job, calls, lookups } = await setup(undefined, undefined, () => true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lookups).toEqual([0]);
    expect(calls).toEqual([
      { action: 'restart', at: 0 },
      { action: 'restart', at: 8_000 },
      { action: 'restart', at: 16_000 },
    ]);
    expect(await job.state()).toBe('connected');
  });

  it('should look again after 1 s, ×1.5 each time, and find a participant that appears after 3 s', async () => {
    const { calls, lookups } = await setup(undefined, undefined, (at) => at >= 3_000);
    await vi.advanceTimersByTimeAsync(9_000);
    // Jitter fixed at its middle: 0, +1, +1.5, +2.25 s; found on the fourth lookup.
    expect(lookups).toEqual([0, 1_000, 2_500, 4_750]);
    expect(calls).toEqual([{ action: 'restart', at: 4_750 }]);
  });

  it('should keep looking until the end of the wait and then send, when the participant never appears', async () => {
    for (const answer of [false, undefined]) {
      const { calls, lookups, outcomes } = await setup(undefined, undefined, () => answer);
      await vi.advanceTimersByTimeAsync(60_000);
      // The next lookup would come after 10 s: the wait ends first, and the leave is sent then.
      expect(lookups).toEqual([0, 1_000, 2_500, 4_750, 8_125]);
      expect(calls).toEqual([{ action: 'send', at: 10_000 }]);
      expect(outcomes).toEqual(['sent']);
    }
  });

  it('should stop looking once a webhook says the member joined', async () => {
    const { job, lookups, calls } = await setup();
    await vi.advanceTimersByTimeAsync(1_500);
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lookups).toEqual([0, 1_000]);
    expect(calls.map((c) => c.action)).toEqual(['restart', 'restart', 'restart']);
  });

  it('should wait at most one hour for the first connection', async () => {
    const { calls } = await setup(undefined, 24 * 3600_000);
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(calls.map((c) => c.action)).toEqual(['send']);
  });

  it('should restart at once on join and then every 80 % of delay_timeout', async () => {
    const { job, calls } = await setup();
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toEqual([
      { action: 'restart', at: 0 },
      { action: 'restart', at: 8_000 },
      { action: 'restart', at: 16_000 },
      { action: 'restart', at: 24_000 },
    ]);
    expect(await job.state()).toBe('connected');
  });

  it('should send on an intentional leave after joining', async () => {
    const { job, calls, outcomes } = await setup();
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(1_000);
    await job.handle('left_intentionally');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.action)).toEqual(['restart', 'send']);
    expect(outcomes).toEqual(['sent']);
  });

  it('should send when the connection drops or the participant is gone after joining', async () => {
    for (const event of ['connection_aborted', 'gone'] as const) {
      const { job, calls, outcomes } = await setup();
      await job.handle('joined');
      await vi.advanceTimersByTimeAsync(0);
      await job.handle(event);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls.map((c) => c.action)).toEqual(['restart', 'send']);
      expect(outcomes).toEqual(['sent']);
    }
  });

  it('should do nothing when the connection aborts before joining', async () => {
    const { job, calls, outcomes } = await setup();
    await job.handle('connection_aborted');
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(calls).toEqual([]);
    expect(outcomes).toEqual(['aborted_before_join']);
  });

  it('should ignore an intentional leave before joining and keep waiting', async () => {
    const { job, calls } = await setup();
    await job.handle('left_intentionally');
    expect(await job.state()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.map((c) => c.action)).toEqual(['send']);
  });

  it('should end the job without send when restart answers 404', async () => {
    const { job, calls, outcomes } = await setup(() => ({ outcome: 'not_found' }));
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(60_000);
    await job.handle('left_intentionally');
    expect(calls.map((c) => c.action)).toEqual(['restart']);
    expect(outcomes).toEqual(['event_gone']);
  });

  it('should count a 404 on send as done, with exactly one send', async () => {
    const { job, calls, outcomes } = await setup((action) =>
      action === 'send' ? { outcome: 'not_found' } : { outcome: 'ok' },
    );
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(0);
    await job.handle('connection_aborted');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.map((c) => c.action)).toEqual(['restart', 'send']);
    expect(outcomes).toEqual(['sent']);
  });

  it('should wait retry_after_ms on 429 before sending again', async () => {
    let answers = 0;
    const { calls, outcomes } = await setup(() =>
      answers++ === 0
        ? { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 4_000 }
        : { outcome: 'ok' },
    );
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toEqual([
      { action: 'send', at: 10_000 },
      { action: 'send', at: 14_000 },
    ]);
    expect(outcomes).toEqual(['sent']);
  });

  it('should back off exponentially on 500s and give up at the deadline', async () => {
    const { calls, outcomes } = await setup(() => ({ outcome: 'retry', reason: 'HTTP 500' }));
    await vi.advanceTimersByTimeAsync(60_000);
    // Send starts at 10 s; retries after 1, 1.5, 2.25, 3.375 s until 10 s more have passed.
    expect(calls.map((c) => c.at)).toEqual([10_000, 11_000, 12_500, 14_750, 18_125]);
    expect(outcomes).toEqual(['send_failed']);
  });

  it('should give up restarting once the homeserver would have fired the event itself', async () => {
    const { job, calls, outcomes } = await setup(() => ({ outcome: 'retry', reason: 'timeout' }));
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.every((c) => c.action === 'restart' && c.at < 10_000)).toBe(true);
    expect(outcomes).toEqual(['restart_failed']);
  });

  it('should make no further call once replaced', async () => {
    const { jobs, job, calls, ids, outcomes } = await setup();
    await job.handle('joined');
    await vi.advanceTimersByTimeAsync(0);
    await jobs.register({ ...PARAMS, delayId: 'syd_new' });
    await job.handle('left_intentionally');
    await vi.advanceTimersByTimeAsync(60_000);
    // The new job is waiting for its own first connection: the leave is sent on its timeout.
    expect(calls.map((c) => c.action)).toEqual(['restart', 'send']);
    expect(ids).toEqual(['syd_abc', 'syd_new']);
    expect(outcomes).toEqual(['replaced', 'sent']);
  });
});

describe('lease and restart interval', () => {
  it('should lease 10 % of delay_timeout between 1 s and 15 s', () => {
    expect([1_000, 8_000, 40_000, 600_000].map((d) => leaseOf(d))).toEqual([
      1000, 1000, 4000, 15_000,
    ]);
  });

  it('should restart at 80 % unless a takeover after a lease would come too late', () => {
    // 10 s and more: the reference's 80 %; below: two leases before the deadline; never < 50 %.
    expect([60_000, 10_000, 6_000, 3_000, 1_000].map(restartIntervalOf)).toEqual([
      48_000, 8_000, 4_000, 1_500, 500,
    ]);
    for (const d of [3_000, 6_000, 10_000, 60_000, 600_000]) {
      expect(restartIntervalOf(d) + leaseOf(d)).toBeLessThan(d);
    }
  });
});
