import { type Redis, startRedis } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { FakeRooms, FakeVerifier, FULL, getTokenBody, LogSink, testConfig } from './helpers.ts';

/**
 * A room service that counts GetParticipant questions and always sees the member: the job's
 * lookup turns it connected, and every sweep then asks about it (nothing changes).
 */
class CountingRooms extends FakeRooms {
  public asked = 0;

  public override async hasParticipant(): Promise<boolean> {
    this.asked++;
    return Promise.resolve(true);
  }
}

// The sanity check reads every job from the store; with Redis away that read fails. The
// failure must stay inside the service (a rejected sweep nobody handles ends the process).
describe('the sanity check while the job store is away', () => {
  let redis: Redis;
  let app: FastifyInstance;
  const logs = new LogSink();
  const rooms = new CountingRooms();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await startRedis();
    app = await buildApp({
      config: testConfig({
        LIVEKIT_REDIS_URL: redis.url,
        LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: '1',
        LIVEKIT_CS_API_URL_OVERRIDES: `${FULL}=http://127.0.0.1:9`,
      }),
      verifier: new FakeVerifier(),
      rooms,
      logStream: logs,
    });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('should log the store as failing and keep the process alive', async () => {
    // A connected job (its lookup found the member), so a working sweep has someone to ask
    // about: the lookup, then at least one sweep.
    const res = await app.inject({
      method: 'POST',
      url: '/delegate_delayed_leave',
      payload: getTokenBody(FULL, { delay_id: 'syd_sweep', delay_timeout: 60_000 }),
    });
    expect(res.statusCode).toBe(200);
    await expect.poll(() => rooms.asked).toBeGreaterThan(1);

    await redis.kill();
    await expect.poll(() => logs.text).toContain('job store failing');
    // Two sweeps' worth of time with the store away: none of them may escape as a rejection.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(unhandled).toEqual([]);
  });
});
