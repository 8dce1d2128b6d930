import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import {
  CORS,
  FakeHomeserver,
  FakeRooms,
  FakeVerifier,
  FULL,
  getTokenBody,
  LogSink,
  testConfig,
} from './helpers.ts';

const delegated = (delayId: string) =>
  getTokenBody(FULL, {
    room_id: `!${delayId}:example.com`,
    delay_id: delayId,
    delay_timeout: 600_000,
  });

// Redis taken away under a running service (the real redis-server, killed and started again):
// what keeps working, what the client is told, and that the service comes back by itself.
describe('livekit-jwt when Redis goes away', () => {
  let redis: RedisServer;
  let app: FastifyInstance;
  const logs = new LogSink();

  beforeAll(async () => {
    redis = await startRedis();
    const config = testConfig({ LIVEKIT_REDIS_URL: redis.url });
    app = await buildApp({
      config,
      verifier: new FakeVerifier(),
      rooms: new FakeRooms(),
      homeserver: new FakeHomeserver(),
      logStream: logs,
    });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('should keep minting, answer delegation 503 M_UNKNOWN, and recover when Redis returns', async () => {
    const before = await app.inject({ method: 'POST', url: '/get_token', payload: delegated('a') });
    expect(before.statusCode).toBe(200);

    await redis.kill();
    const plain = await app.inject({ method: 'POST', url: '/get_token', payload: getTokenBody() });
    expect(plain.statusCode).toBe(200);
    for (const url of ['/get_token', '/delegate_delayed_leave']) {
      const res = await app.inject({ method: 'POST', url, payload: delegated('b') });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        errcode: 'M_UNKNOWN',
        error: 'Delayed leave delegation is temporarily unavailable; retry later',
      });
      expect(res.headers).toMatchObject(CORS);
    }
    // Webhooks are still answered as upstream does (empty 200), and counted.
    const hook = await app.inject({ method: 'POST', url: '/sfu_webhook', payload: '{}' });
    expect(hook.statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/livekit_jwt_delayed_leave_jobs -1/);
    expect(metrics.body).toMatch(/outcome="store_unavailable"/);

    // The job loop notices too (once), before Redis comes back.
    await expect.poll(() => logs.text, { timeout: 5000 }).toMatch(/job store failing/);
    await redis.start();
    await expect
      .poll(
        async () =>
          (await app.inject({ method: 'POST', url: '/get_token', payload: delegated('c') }))
            .statusCode,
        { timeout: 15_000, interval: 200 },
      )
      .toBe(200);
    const after = await app.inject({ method: 'GET', url: '/metrics' });
    expect(after.body).toMatch(/livekit_jwt_delayed_leave_jobs 1/);
    // The job loop's next pass logs the recovery.
    await expect.poll(() => logs.text, { timeout: 5000 }).toMatch(/job store reachable again/);
    expect(logs.text).not.toMatch(/redis:\/\//);
  });
});
