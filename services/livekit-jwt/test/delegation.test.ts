import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.ts';
import { participantIdentity, roomAlias } from '../src/tokens/room-identity.ts';
import {
  CORS,
  FakeHomeserver,
  FakeRooms,
  FakeVerifier,
  FULL,
  getTokenBody,
  legacyBody,
  REMOTE,
  signedWebhook as webhook,
  testConfig,
} from './helpers.ts';

const DELAY = { delay_id: 'syd_leave', delay_timeout: 10_000 };
const ROOM = roomAlias('!roomid:example.com', 'slot1234');
const IDENTITY = participantIdentity(`@alice:${FULL}`, 'DEVICE123', 'memberABC');

async function setup() {
  const verifier = new FakeVerifier();
  const rooms = new FakeRooms();
  const homeserver = new FakeHomeserver();
  const config = testConfig({
    LIVEKIT_FULL_ACCESS_HOMESERVERS: `${FULL} unresolvable.example`,
    // Fake time jumps would read as event-loop stalls to load shedding, were it on.
    LIVEKIT_JWT_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  const app = await buildApp({ config, verifier, rooms, homeserver, logStream: false });
  return { app, verifier, rooms, homeserver };
}

function participant(event: string, disconnectReason?: string) {
  return {
    event,
    room: { name: ROOM },
    participant: { identity: IDENTITY, ...(disconnectReason ? { disconnectReason } : {}) },
  };
}

describe('delegated delayed leave', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('POST /get_token with delay_id', () => {
    it('should refuse a restricted user with 400 and create no room', async () => {
      const { app, rooms } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: getTokenBody(REMOTE, { ...DELAY }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        errcode: 'M_BAD_JSON',
        error: 'Delegation of delayed events is only supported for full access users',
      });
      expect(rooms.created).toEqual([]);
    });

    it('should answer 400 when the client-server API is unresolvable, before creating the room', async () => {
      const { app, rooms, homeserver } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: getTokenBody('unresolvable.example', { ...DELAY }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        errcode: 'M_BAD_JSON',
        error: 'Unable to resolve client-server API',
      });
      expect(res.headers).toMatchObject(CORS);
      expect(rooms.created).toEqual([]);
      expect(homeserver.calls).toEqual([]);
    });

    it('should mint a token and send the leave once delay_timeout passes without a join', async () => {
      const { app, rooms, homeserver } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: getTokenBody(FULL, { ...DELAY, delay_cs_api_url: 'https://ignored' }),
      });
      expect(res.statusCode).toBe(200);
      expect(rooms.created).toEqual([ROOM]);
      await vi.advanceTimersByTimeAsync(9_999);
      expect(homeserver.calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(homeserver.calls).toEqual([{ delayId: 'syd_leave', action: 'send' }]);
    });

    it('should key /sfu/get jobs by the legacy identity', async () => {
      const { app, homeserver } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/sfu/get',
        payload: legacyBody(FULL, { ...DELAY }),
      });
      expect(res.statusCode).toBe(200);
      await webhook(app, {
        event: 'participant_connection_aborted',
        room: { name: roomAlias('!room:example.com', 'm.call#ROOM') },
        participant: { identity: `@alice:${FULL}:DEVICE` },
      });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(homeserver.calls).toEqual([]);
    });
  });

  describe('POST /delegate_delayed_leave', () => {
    it('should answer 200 {} without minting a token or creating a room', async () => {
      const { app, rooms } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/delegate_delayed_leave',
        payload: getTokenBody(FULL, { ...DELAY }),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
      expect(res.headers).toMatchObject(CORS);
      expect(rooms.created).toEqual([]);
    });

    it('should refuse a restricted user with 403 M_FORBIDDEN', async () => {
      const { app } = await setup();
      const res = await app.inject({
        method: 'POST',
        url: '/delegate_delayed_leave',
        payload: getTokenBody(REMOTE, { ...DELAY }),
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        errcode: 'M_FORBIDDEN',
        error: 'Delegation of delayed events is only supported for full access users',
      });
    });

    it('should validate with its own wording, before any OpenID lookup', async () => {
      const { app, verifier } = await setup();
      const cases: [Record<string, unknown>, string][] = [
        [{ ...DELAY, room_id: '' }, 'The request body is missing `room_id` or `slot_id`'],
        [
          { ...DELAY, member: { id: 'm', claimed_user_id: '@alice:example.com' } },
          'The request body `member` is missing `id`, `claimed_user_id` or `claimed_device_id`',
        ],
        [
          { ...DELAY, openid_token: { access_token: 'valid-token' } },
          'The request body `openid_token` is missing `access_token` or `matrix_server_name`',
        ],
        [{ delay_id: 'syd_leave' }, 'The request body is missing `delay_id` or `delay_timeout`'],
        [{ delay_timeout: 10_000 }, 'The request body is missing `delay_id` or `delay_timeout`'],
        [
          { ...DELAY, delay_timeout: -1 },
          'The request body is missing `delay_id` or `delay_timeout`',
        ],
      ];
      for (const [overrides, error] of cases) {
        const res = await app.inject({
          method: 'POST',
          url: '/delegate_delayed_leave',
          payload: getTokenBody(FULL, overrides),
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ errcode: 'M_BAD_JSON', error });
      }
      expect(verifier.calls).toEqual([]);
    });

    it('should answer 401 for an unknown token or a claimed user mismatch', async () => {
      const { app } = await setup();
      for (const overrides of [
        { openid_token: { access_token: 'bad', matrix_server_name: FULL } },
        { member: { id: 'm', claimed_user_id: '@bob:example.com', claimed_device_id: 'D' } },
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: '/delegate_delayed_leave',
          payload: getTokenBody(FULL, { ...DELAY, ...overrides }),
        });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({
          errcode: 'M_UNAUTHORIZED',
          error: 'The request could not be authorised.',
        });
      }
    });

    it('should answer 400 M_NOT_JSON for malformed JSON and 405 for GET', async () => {
      const { app } = await setup();
      const bad = await app.inject({
        method: 'POST',
        url: '/delegate_delayed_leave',
        payload: '{',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ errcode: 'M_NOT_JSON' });
      const get = await app.inject({ method: 'GET', url: '/delegate_delayed_leave' });
      expect(get.statusCode).toBe(405);
      expect(get.headers).toMatchObject(CORS);
      const preflight = await app.inject({ method: 'OPTIONS', url: '/delegate_delayed_leave' });
      expect(preflight.statusCode).toBe(200);
      expect(preflight.body).toBe('');
    });
  });

  describe('POST /sfu_webhook', () => {
    async function delegated() {
      const context = await setup();
      const res = await context.app.inject({
        method: 'POST',
        url: '/delegate_delayed_leave',
        payload: getTokenBody(FULL, { ...DELAY }),
      });
      expect(res.statusCode).toBe(200);
      return context;
    }

    it('should restart on join, every 8 s while connected, and send on an intentional leave', async () => {
      const { app, homeserver } = await delegated();
      const joined = await webhook(app, participant('participant_joined'));
      expect(joined.statusCode).toBe(200);
      expect(joined.body).toBe('');
      await vi.advanceTimersByTimeAsync(16_000);
      expect(homeserver.calls.map((c) => c.action)).toEqual(['restart', 'restart', 'restart']);
      await webhook(app, participant('participant_left', 'CLIENT_INITIATED'));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(homeserver.calls.map((c) => c.action)).toEqual([
        'restart',
        'restart',
        'restart',
        'send',
      ]);
    });

    it('should send when the connection drops after joining', async () => {
      const { app, homeserver } = await delegated();
      await webhook(app, participant('participant_joined'));
      await webhook(app, participant('participant_left', 'SIGNAL_CLOSE'));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(homeserver.calls.map((c) => c.action)).toEqual(['restart', 'send']);
    });

    it('should make no call when the connection aborts before joining', async () => {
      const { app, homeserver } = await delegated();
      await webhook(app, participant('participant_connection_aborted'));
      await vi.advanceTimersByTimeAsync(3600_000);
      expect(homeserver.calls).toEqual([]);
    });

    it('should ignore unsigned, wrongly signed and tampered webhooks and count them', async () => {
      const { app, homeserver } = await delegated();
      const unsigned = await app.inject({
        method: 'POST',
        url: '/sfu_webhook',
        payload: JSON.stringify(participant('participant_joined')),
      });
      expect(unsigned.statusCode).toBe(200);
      expect(unsigned.body).toBe('');
      expect(
        (await webhook(app, participant('participant_joined'), { secret: 'x'.repeat(40) }))
          .statusCode,
      ).toBe(200);
      expect(
        (await webhook(app, participant('participant_joined'), { tamper: true })).statusCode,
      ).toBe(200);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(homeserver.calls).toEqual([]);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain('livekit_jwt_webhooks_total{result="invalid"} 3');
    });

    it('should replace the job of a member who delegates again', async () => {
      const { app, homeserver } = await delegated();
      await app.inject({
        method: 'POST',
        url: '/delegate_delayed_leave',
        payload: getTokenBody(FULL, { delay_id: 'syd_second', delay_timeout: 10_000 }),
      });
      await webhook(app, participant('participant_joined'));
      await webhook(app, participant('participant_left', 'CLIENT_INITIATED'));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(homeserver.calls).toEqual([
        { delayId: 'syd_second', action: 'restart' },
        { delayId: 'syd_second', action: 'send' },
      ]);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain(
        'livekit_jwt_delayed_leave_jobs_ended_total{outcome="replaced"} 1',
      );
      expect(metrics.body).toContain('livekit_jwt_delayed_leave_jobs 0');
    });

    it('should end the job on a 404 restart and send nothing after', async () => {
      const { app, homeserver } = await delegated();
      homeserver.answer = () => ({ outcome: 'not_found' });
      await webhook(app, participant('participant_joined'));
      await webhook(app, participant('participant_left', 'CLIENT_INITIATED'));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(homeserver.calls.map((c) => c.action)).toEqual(['restart']);
    });
  });
});
