import { type Redis as RedisServer, startRedis } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { participantIdentity, roomAlias } from '../src/room-identity.ts';
import {
  FakeRooms,
  FakeVerifier,
  FULL,
  getTokenBody,
  signedWebhook,
  testConfig,
} from './helpers.ts';

const PREFIX = '/_matrix/client/unstable/org.matrix.msc4140/delayed_events/';
const IDENTITY = participantIdentity(`@alice:${FULL}`, 'DEVICE123', 'memberABC');

/** One answer of the homeserver to a restart or send: a status and body, or no answer for a while. */
type Answer =
  { status: number; body?: string; headers?: Record<string, string> } | { hangMs: number };

// The jobs in a real Redis, the MSC4140 calls against a real (loopback) homeserver whose answers
// each test scripts: 404s, 429 with retry_after_ms, 500, a hung call, replayed and crossed webhooks.
describe('delayed leave faults, with jobs in Redis', () => {
  let redis: RedisServer;
  let homeserver: Server;
  let app: FastifyInstance;
  let calls: { path: string; at: number }[] = [];
  let answers: Answer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    homeserver = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST' && req.url?.startsWith(PREFIX) === true) {
        calls.push({ path: req.url.slice(PREFIX.length), at: Date.now() });
      }
      const answer = answers.shift() ?? { status: 200, body: '{}' };
      if ('hangMs' in answer) {
        setTimeout(() => res.end('{}'), answer.hangMs).unref();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '{}');
    });
    await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
    const csApi = `http://127.0.0.1:${(homeserver.address() as AddressInfo).port}`;
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
    homeserver.closeAllConnections();
    await new Promise((resolve) => homeserver.close(resolve));
  });
  beforeEach(() => {
    calls = [];
    answers = [];
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
  const actions = () => calls.map((c) => c.path);
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
    answers = [{ status: 404, body: '{"errcode":"M_NOT_FOUND"}' }];
    await signedWebhook(app, event(gone, 'participant_joined'));
    await expect.poll(actions).toEqual(['syd_gone/restart']);
    await signedWebhook(app, event(gone, 'participant_left', 'CLIENT_INITIATED'));
    const sent = await delegate('syd_sent');
    answers = [{ status: 200 }, { status: 404, body: '{"errcode":"M_NOT_FOUND"}' }];
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
    answers = [
      { status: 429, body: '{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}' },
      { status: 500 },
      { hangMs: 6_000 },
    ];
    await signedWebhook(app, event(room, 'participant_left', 'CLIENT_INITIATED'));
    await expect.poll(actions, { timeout: 20_000, interval: 100 }).toHaveLength(5);
    expect(actions().slice(1)).toEqual(Array(4).fill('syd_retry/send'));
    const at = calls.map((c) => c.at);
    // 429: at least the 2 s asked for (1500 ms rounded up); 500: the job's backoff (≥ 0.5 s);
    // the hung call is abandoned after the 5 s call timeout and retried.
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2000);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(500);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(5000);
    await settle();
    expect(actions()).toHaveLength(5);
  });
});
