import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { REDIS_COMMANDS, RedisJobStore } from '../src/stores/redis-job-store.ts';
import { participantIdentity, roomAlias } from '../src/tokens/room-identity.ts';
import {
  FakeHomeserver,
  FakeRooms,
  FakeVerifier,
  FULL,
  getTokenBody,
  signedWebhook,
  testConfig,
} from './helpers.ts';

// A Redis-compatible store as some managed and proxy offerings run it: no INFO (ioredis's
// default ready check), no HELLO (RESP3 negotiation), no CLIENT, and an ACL that allows exactly
// the commands the README lists. The service must start on it and run delegations through it.
describe('livekit-jwt on a restricted Redis', () => {
  let redis: RedisServer;
  let app: FastifyInstance | undefined;
  const homeserver = new FakeHomeserver();
  const rooms = new FakeRooms();

  beforeAll(async () => {
    redis = await startRedis({
      disabledCommands: ['INFO', 'HELLO', 'CLIENT'],
      allowedCommands: [...new Set([...REDIS_COMMANDS.client, ...REDIS_COMMANDS.scripts])],
    });
  });
  afterAll(async () => {
    await app?.close();
    await redis.stop();
  });

  it('should connect without INFO, HELLO or CLIENT', async () => {
    const store = await RedisJobStore.connect(redis.url);
    expect(await store.count()).toBe(0);
    await store.close();
  });

  it('should start, delegate, find the member, restart and send with only the listed commands', async () => {
    const service = await buildApp({
      config: testConfig({
        LIVEKIT_REDIS_URL: `${redis.url}/0`,
        LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: '1',
      }),
      verifier: new FakeVerifier(),
      rooms,
      homeserver,
      logStream: false,
    });
    app = service;
    const room = roomAlias('!roomid:example.com', 'slot1234');
    const identity = participantIdentity(`@alice:${FULL}`, 'DEVICE123', 'memberABC');
    rooms.present = () => true;
    const res = await service.inject({
      method: 'POST',
      url: '/get_token',
      payload: getTokenBody(FULL, { delay_id: 'syd_restricted', delay_timeout: 60_000 }),
    });
    expect(res.statusCode).toBe(200);
    // Looked up (claimed from the sorted set, updated by script), found, restarted.
    await expect.poll(() => homeserver.calls.map((c) => c.action)).toEqual(['restart']);
    const metrics = await service.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^livekit_jwt_delayed_leave_jobs 1$/m);
    await signedWebhook(service, {
      event: 'participant_left',
      room: { name: room },
      participant: { identity, disconnectReason: 'CLIENT_INITIATED' },
    });
    await expect.poll(() => homeserver.calls.map((c) => c.action)).toEqual(['restart', 'send']);
    await expect
      .poll(async () => (await service.inject({ method: 'GET', url: '/metrics' })).body)
      .toMatch(/^livekit_jwt_delayed_leave_jobs_ended_total\{outcome="sent"\} 1$/m);
  });
});
