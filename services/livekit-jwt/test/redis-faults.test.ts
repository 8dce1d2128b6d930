import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { participantIdentity, roomAlias } from '../src/tokens/room-identity.ts';
import {
  FakeRooms,
  FakeVerifier,
  FULL,
  getTokenBody,
  signedWebhook,
  testConfig,
} from './helpers.ts';
import { RecordingHomeserver } from './recording-homeserver.ts';

const IDENTITY = participantIdentity(`@alice:${FULL}`, 'DEVICE123', 'memberABC');

// The jobs in a real Redis, the MSC4140 calls against a real (loopback) homeserver whose answers
// each test scripts: 404s, 429 with retry_after_ms, 500, a hung call, replayed and crossed webhooks.
describe('delayed leave faults, with jobs in Redis', () => {
  let redis: RedisServer;
  let homeserver: RecordingHomeserver;
  let app: FastifyInstance;

  beforeAll(async () => {
    redis = await startRedis();
    homeserver = await new RecordingHomeserver().start();
    const csApi = homeserver.url;
    const config = testConfig({
      LIVEKIT_REDIS_URL: redis.url,
      LIVEKIT_CS_API_URL_OVERRIDES: `${FULL}=${csApi}`,
    });
    app = await buildApp({
      config,
      verifier: new FakeVerifier(),
      rooms: new FakeRooms(),
      logStream: false,
      pollMs: 50,
    });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
    await homeserver.close();
  });
  beforeEach(() => {
    homeserver.calls.length = 0;
    homeserver.answers = [];
  });

  /** Delegates `delayId` for a fresh room; returns the room's LiveKit name. */
  async function delegate(delayId: string, delayTimeout = 60_000): Promise<string> {
    const roomId = `!${delayId}:example.com`;
    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: getTokenBody(FULL, {
        room_id: roomId,
        delay_id: delayId,
        delay_timeout: delayTimeout,
      }),
    });
    expect(res.statusCode).toBe(200);
    return roomAlias(roomId, 'slot1234');
  }

  const event = (room: string, name: string, disconnectReason?: string) => ({
    event: name,
    room: { name: room },
    participant: { identity: IDENTITY, ...(disconnectReason ? { disconnectReason } : {}) },
  });
  const actions = () => homeserver.paths();
  const settle = () => sleep(400);

  it('should ignore replayed webhooks: one restart per join, one send per leave', async () => {
    const room = await delegate('syd_replay');
    for (let i = 0; i < 3; i++) await signedWebhook(app, event(room, 'participant_joined'));
    await expect.poll(actions).toEqual(['syd_replay/restart']);
    for (let i = 0; i < 3; i++) {
      await signedWebhook(app, event(room, 'participant_left', 'CLIENT_INITIATED'));
    }
    await expect.poll(actions).toEqual(['syd_replay/restart', 'syd_replay/send']);
    // A join replayed after the job ended finds no job.
    await signedWebhook(app, event(room, 'participant_joined'));
    await settle();
    expect(actions()).toEqual(['syd_replay/restart', 'syd_replay/send']);
  });

  it('should handle out-of-order events as the reference state machine does', async () => {
    const room = await delegate('syd_order');
    // A client-initiated leave before any join is ignored; the later join still counts.
    await signedWebhook(app, event(room, 'participant_left', 'CLIENT_INITIATED'));
    await settle();
    expect(actions()).toEqual([]);
    await signedWebhook(app, event(room, 'participant_joined'));
    await signedWebhook(app, event(room, 'participant_connection_aborted'));
    await expect.poll(actions).toEqual(['syd_order/restart', 'syd_order/send']);
  });

  it('should end on a 404 restart and count a 404 send as done', async () => {
    const gone = await delegate('syd_gone');
    homeserver.answers = [{ status: 404, body: '{"errcode":"M_NOT_FOUND"}' }];
    await signedWebhook(app, event(gone, 'participant_joined'));
    await expect.poll(actions).toEqual(['syd_gone/restart']);
    await signedWebhook(app, event(gone, 'participant_left', 'CLIENT_INITIATED'));
    const sent = await delegate('syd_sent');
    homeserver.answers = [{ status: 200 }, { status: 404, body: '{"errcode":"M_NOT_FOUND"}' }];
    await signedWebhook(app, event(sent, 'participant_joined'));
    await signedWebhook(app, event(sent, 'participant_left', 'CLIENT_INITIATED'));
    await expect.poll(actions).toEqual(['syd_gone/restart', 'syd_sent/restart', 'syd_sent/send']);
    await settle();
    expect(actions()).toHaveLength(3);
  });

  it('should wait out a 429 retry_after_ms, retry a 500 and a hung call, then send once', async () => {
    const room = await delegate('syd_retry');
    await signedWebhook(app, event(room, 'participant_joined'));
    await expect.poll(actions).toEqual(['syd_retry/restart']);
    homeserver.answers = [
      { status: 429, body: '{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}' },
      { status: 500 },
      { hangMs: 6_000 },
    ];
    await signedWebhook(app, event(room, 'participant_left', 'CLIENT_INITIATED'));
    await expect.poll(actions, { timeout: 20_000, interval: 100 }).toHaveLength(5);
    expect(actions().slice(1)).toEqual(Array(4).fill('syd_retry/send'));
    const at = homeserver.calls.map((c) => c.at);
    // 429: at least the 2 s asked for (1500 ms rounded up); 500: the job's backoff (≥ 0.5 s);
    // the hung call is abandoned after the 5 s call timeout and retried.
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2000);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(500);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(5000);
    await settle();
    expect(actions()).toHaveLength(5);
  });
});
