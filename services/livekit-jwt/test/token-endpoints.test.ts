import type { OpenIdFailureKind } from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { roomAlias } from '../src/tokens/room-identity.ts';
import { TokenMinter } from '../src/tokens/token-minter.ts';
import { type RoomService, TwirpRoomService } from '../src/livekit/room-service.ts';
import {
  FakeRooms,
  type FakeVerifier,
  FULL,
  getTokenBody,
  jwtOf,
  KEY,
  legacyBody,
  LIVEKIT_URL,
  makeApp,
  REMOTE,
  SECRET,
  verifyJwt,
} from './helpers.ts';

const NOT_JSON = { errcode: 'M_NOT_JSON', error: 'Error reading request' };
const UNAUTHORISED = { errcode: 'M_UNAUTHORIZED', error: 'The request could not be authorised.' };
const bad = (error: string) => ({ errcode: 'M_BAD_JSON', error });

// Rows 7–38 of research/lk-jwt-service.md §9, adjusted to the Rust generation (#222, opt-in metadata).
describe('livekit-jwt token endpoints', () => {
  let app: FastifyInstance;
  let verifier: FakeVerifier;
  let rooms: FakeRooms;
  afterEach(async () => {
    await app.close();
  });
  const setup = async (env: Record<string, string> = {}, roomService?: RoomService) => {
    const fake = new FakeRooms();
    const made = await makeApp({ env, rooms: roomService ?? fake });
    app = made.app;
    verifier = made.verifier;
    rooms = roomService instanceof FakeRooms ? roomService : fake;
  };
  const post = (url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });

  describe('body parsing and validation', () => {
    it.each(['/get_token', '/sfu/get'])(
      'should answer malformed JSON on %s with 400 M_NOT_JSON and no lookup (rows 7, 8)',
      async (url) => {
        await setup();
        const res = await post(url, '{invalid json}');
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(NOT_JSON);
        expect(verifier.calls).toHaveLength(0);
      },
    );

    it('should answer unknown top-level and nested fields with M_NOT_JSON (row 9)', async () => {
      await setup();
      for (const body of [
        getTokenBody(FULL, { extra: 1 }),
        getTokenBody(FULL, { member: { ...getTokenBody().member, extra: 1 } }),
        getTokenBody(FULL, { openid_token: { ...getTokenBody().openid_token, extra: 1 } }),
      ]) {
        const res = await post('/get_token', body);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(NOT_JSON);
      }
      expect(verifier.calls).toHaveLength(0);
    });

    it('should check room and slot, then member, then OpenID fields, in that order (row 10)', async () => {
      await setup();
      const cases: [Record<string, unknown>, string][] = [
        [{ room_id: '' }, 'The request body is missing `room_id` or `slot_id`'],
        [{ slot_id: undefined, member: {} }, 'The request body is missing `room_id` or `slot_id`'],
        [
          { member: { id: 'm', claimed_user_id: '@a:b' }, openid_token: {} },
          'The request body `member` is missing a `id`, `claimed_user_id` or `claimed_device_id`',
        ],
        [
          { openid_token: { access_token: 'x' } },
          'The request body `openid_token` is missing a `access_token` or `matrix_server_name`',
        ],
        [
          { openid_token: { matrix_server_name: FULL } },
          'The request body `openid_token` is missing a `access_token` or `matrix_server_name`',
        ],
      ];
      for (const [override, message] of cases) {
        const res = await post('/get_token', getTokenBody(FULL, override));
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(bad(message));
      }
      expect(verifier.calls).toHaveLength(0);
    });

    it.each([
      ['/get_token', getTokenBody],
      ['/sfu/get', legacyBody],
    ] as const)(
      'should refuse unpaired delay parameters on %s without a lookup (row 11)',
      async (url, body) => {
        await setup();
        for (const delay of [
          { delay_id: 'syd_1' },
          { delay_timeout: 10000 },
          { delay_id: 'd', delay_timeout: 0 },
        ]) {
          const res = await post(url, body(FULL, delay));
          expect(res.statusCode).toBe(400);
          expect(res.json()).toEqual(
            bad('The request body is missing `delay_id` or `delay_timeout`'),
          );
        }
        expect(verifier.calls).toHaveLength(0);
      },
    );

    it('should answer /sfu/get {} and {"room":""} with "Missing room parameter" (row 12)', async () => {
      await setup();
      for (const body of [{}, { room: '' }]) {
        const res = await post('/sfu/get', body);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(bad('Missing room parameter'));
      }
    });

    it('should answer missing OpenID fields on /sfu/get with "Missing OpenID token parameters" (row 13)', async () => {
      await setup();
      for (const openid of [{ matrix_server_name: FULL }, { access_token: 't' }, undefined]) {
        const res = await post('/sfu/get', { room: '!r:x', openid_token: openid });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(bad('Missing OpenID token parameters'));
      }
      expect(verifier.calls).toHaveLength(0);
    });

    it('should answer a legacy body with an unknown field with 400 M_NOT_JSON, as upstream main does (row 14 is v0.5.0)', async () => {
      await setup();
      const res = await post('/sfu/get', legacyBody(FULL, { extra_field: 'x' }));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(NOT_JSON);
    });

    it('should accept paired delay parameters on the legacy shape of /sfu/get (upstream main)', async () => {
      // Delegation needs the member's client-server API (the override stands in for discovery).
      await setup({ LIVEKIT_CS_API_URL_OVERRIDES: `${FULL}=http://127.0.0.1:9` });
      const res = await post(
        '/sfu/get',
        legacyBody(FULL, {
          delay_id: 'syd_1',
          delay_timeout: 10000,
          delay_cs_api_url: 'https://hs',
        }),
      );
      expect(res.statusCode).toBe(200);
    });

    it('should answer /sfu/get with a /get_token body as /get_token would (row 15)', async () => {
      await setup();
      const viaLegacy = await post('/sfu/get', getTokenBody());
      const direct = await post('/get_token', getTokenBody());
      expect(viaLegacy.statusCode).toBe(200);
      const a = await verifyJwt(jwtOf(viaLegacy));
      const b = await verifyJwt(jwtOf(direct));
      expect(a.sub).toBe(b.sub);
      expect(a.video).toEqual(b.video);
      expect(a.sub).toBe('J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU');
    });

    it('should answer a string delay_timeout with M_NOT_JSON (row 16)', async () => {
      await setup();
      const res = await post(
        '/get_token',
        getTokenBody(FULL, { delay_id: 'd', delay_timeout: '7200000' }),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(NOT_JSON);
      expect(verifier.calls).toHaveLength(0);
    });
  });

  describe('OpenID verification', () => {
    it('should verify exactly once with the access token and server name from the body (row 17)', async () => {
      await setup();
      await post('/get_token', getTokenBody(REMOTE));
      expect(verifier.calls).toEqual([{ accessToken: 'valid-token', serverName: REMOTE }]);
    });

    const kinds: OpenIdFailureKind[] = [
      'unreachable',
      'timeout',
      'rejected',
      'bad_response',
      'server_mismatch',
      'refused_by_policy',
    ];
    it.each(kinds)(
      'should answer a %s verification failure with the 401 on both endpoints (rows 20–22)',
      async (kind) => {
        await setup();
        verifier.failure = kind;
        for (const [url, body] of [
          ['/get_token', getTokenBody()],
          ['/sfu/get', legacyBody()],
        ] as const) {
          const res = await post(url, body);
          expect(res.statusCode).toBe(401);
          expect(res.json()).toEqual(UNAUTHORISED);
        }
        expect(rooms.created).toHaveLength(0);
      },
    );

    it('should answer an unknown token with 401 after one lookup', async () => {
      await setup();
      const res = await post(
        '/get_token',
        getTokenBody(FULL, { openid_token: { access_token: 'nope', matrix_server_name: FULL } }),
      );
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(UNAUTHORISED);
      expect(verifier.calls).toHaveLength(1);
    });

    it('should answer 401 when sub differs from claimed_user_id, after exactly one lookup (row 23)', async () => {
      await setup();
      verifier.user = 'mallory';
      const res = await post('/get_token', getTokenBody());
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(UNAUTHORISED);
      expect(verifier.calls).toHaveLength(1);
      expect(rooms.created).toHaveLength(0);
    });

    it('should not check a claimed user on legacy /sfu/get (row 24)', async () => {
      await setup();
      verifier.user = 'mallory';
      const res = await post('/sfu/get', legacyBody());
      expect(res.statusCode).toBe(200);
      expect((await verifyJwt(jwtOf(res))).sub).toBe(`@mallory:${FULL}:DEVICE`);
    });
  });

  describe('tokens, rooms and identities', () => {
    it('should mint a HS256 token with the reference claims for a full-access user (rows 27, 28, 30, 34, 35)', async () => {
      await setup();
      const res = await post('/get_token', getTokenBody());
      expect(res.statusCode).toBe(200);
      expect(res.json<{ url: string }>().url).toBe(LIVEKIT_URL);
      const claims = await verifyJwt(jwtOf(res));
      expect(claims.iss).toBe(KEY);
      expect(claims.exp! - claims.nbf!).toBe(3600);
      expect(Math.abs(claims.nbf! - Date.now() / 1000)).toBeLessThan(5);
      expect(claims.sub).toBe('J+T45tGruxc+HrUOqJJlyQSV33m728Cme4+vt8/SWrU');
      expect(claims.video).toEqual({
        roomJoin: true,
        room: 'O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc',
        canPublish: true,
        canSubscribe: true,
      });
      expect(rooms.created).toEqual(['O8437W3+jmzMVjoIP3tNwbm+XxHQk2iKpOA7aqw3qSc']);
      expect(SECRET.length).toBeGreaterThanOrEqual(32);
    });

    it('should add canUpdateOwnMetadata only with LIVEKIT_CAN_UPDATE_OWN_METADATA=true (row 29, opt-in as the Rust main)', async () => {
      await setup({ LIVEKIT_CAN_UPDATE_OWN_METADATA: 'true' });
      const res = await post('/get_token', getTokenBody());
      expect((await verifyJwt(jwtOf(res))).video).toMatchObject({ canUpdateOwnMetadata: true });
    });

    it('should deny publishing to restricted users and create no room (#222, row 36)', async () => {
      await setup();
      const res = await post('/get_token', getTokenBody(REMOTE));
      expect(res.statusCode).toBe(200);
      const claims = await verifyJwt(jwtOf(res));
      expect(claims.video).toMatchObject({ roomJoin: true, canPublish: false, canSubscribe: true });
      expect(claims.video).not.toHaveProperty('roomCreate');
      expect(rooms.created).toHaveLength(0);
    });

    it('should let restricted users publish with LIVEKIT_ALLOW_REMOTE_PUBLISH=true', async () => {
      await setup({ LIVEKIT_ALLOW_REMOTE_PUBLISH: 'true' });
      const res = await post('/get_token', getTokenBody(REMOTE));
      expect((await verifyJwt(jwtOf(res))).video).toMatchObject({ canPublish: true });
      expect(rooms.created).toHaveLength(0);
    });

    it('should give legacy /sfu/get sub:device and the m.call#ROOM room (rows 31, 32)', async () => {
      await setup();
      const res = await post('/sfu/get', legacyBody());
      expect(res.statusCode).toBe(200);
      const claims = await verifyJwt(jwtOf(res));
      expect(claims.sub).toBe(`@alice:${FULL}:DEVICE`);
      expect(claims.video?.room).toBe('krj2dgxw2K6EOm9he4GfQJ6JsSVWfJ8a7BkyjZcSmxs');
      const modern = await post(
        '/get_token',
        getTokenBody(FULL, { room_id: '!room:example.com', slot_id: 'm.call#ROOM' }),
      );
      expect((await verifyJwt(jwtOf(modern))).video?.room).toBe(claims.video?.room);
      expect(claims.video?.room).toMatch(/^[A-Za-z0-9+/]{43}$/);
      expect(rooms.created).toEqual([claims.video?.room, claims.video?.room]);
    });

    it('should hash & < > as JSON.stringify does, not as the Go releases did (row 33, adjusted)', async () => {
      await setup();
      const res = await post('/sfu/get', legacyBody(FULL, { room: '!a&b:example.com' }));
      const room = (await verifyJwt(jwtOf(res))).video?.room;
      expect(room).toBe('BaxXL6saSq+gSL5me/YDg7iH7KCueJy1DyzHVuUuqCk');
      expect(room).not.toBe('BlPHg/JCOxLQr20ttEizBQLd7Bhh5m+r3M8rO3ejvzo');
      expect(room).toBe(roomAlias('!a&b:example.com', 'm.call#ROOM'));
    });

    it('should answer 500 "Unable to create room on SFU" and no token when CreateRoom fails (row 37)', async () => {
      const failing = new FakeRooms();
      failing.fail = true;
      await setup({}, failing);
      for (const [url, body] of [
        ['/get_token', getTokenBody()],
        ['/sfu/get', legacyBody()],
      ] as const) {
        const res = await post(url, body);
        expect(res.statusCode).toBe(500);
        expect(res.json()).toEqual({ errcode: 'M_UNKNOWN', error: 'Unable to create room on SFU' });
      }
    });

    it('should give restricted users a token with no SFU call even when the SFU is down (row 36)', async () => {
      const minter = new TokenMinter({ key: KEY, secret: SECRET });
      const down = new TwirpRoomService({ apiUrl: 'http://127.0.0.1:9', minter, timeoutMs: 1000 });
      await setup({}, down);
      const res = await post('/get_token', getTokenBody(REMOTE));
      expect(res.statusCode).toBe(200);
      const full = await post('/get_token', getTokenBody(FULL));
      expect(full.statusCode).toBe(500);
    });

    it('should treat a lone * as everyone and match names exactly, ports included (row 38)', async () => {
      await setup({ LIVEKIT_FULL_ACCESS_HOMESERVERS: '*' });
      await post('/get_token', getTokenBody('anything.org'));
      expect(rooms.created).toHaveLength(1);
      await app.close();
      await setup({ LIVEKIT_FULL_ACCESS_HOMESERVERS: '*, example.com,hs.org:8448' });
      for (const server of [
        'anything.org',
        'EXAMPLE.COM',
        'hs.org',
        'hs.org:8448',
        'example.com',
      ]) {
        await post('/get_token', getTokenBody(server));
      }
      expect(rooms.created).toHaveLength(2);
    });

    it('should refuse delegation for restricted users before creating anything (row 39)', async () => {
      await setup();
      const res = await post(
        '/get_token',
        getTokenBody(REMOTE, { delay_id: 'syd_1', delay_timeout: 10000 }),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(
        bad('Delegation of delayed events is only supported for full access users'),
      );
      expect(verifier.calls).toHaveLength(1);
      const legacy = await post(
        '/sfu/get',
        legacyBody(REMOTE, { delay_id: 'syd_1', delay_timeout: 10000 }),
      );
      expect(legacy.statusCode).toBe(400);
      expect(rooms.created).toHaveLength(0);
    });
  });
});
