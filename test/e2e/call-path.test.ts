import { dispose, type Room } from '@livekit/rtc-node';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import { AutoDiscovery, AutoDiscoveryAction, type IOpenIDToken } from 'matrix-js-sdk';
import { turnPassword } from '@rtc-sidecars/turn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hearSound, publishTone } from './audio.ts';
import {
  CALL_SLOT,
  callMember,
  getToken,
  hashedName,
  type SfuConfig,
  sfuConfig,
  sfuGet,
} from './element-call.ts';
import {
  joinCall,
  localCandidates,
  nextMessage,
  relayOnly,
  seeParticipant,
  sendMessage,
  within,
} from './livekit-participant.ts';
import { clientWithToken, type LoggedIn, loginWithPassword } from './matrix-login.ts';
import { DOMAIN, type Stack, startStack } from './stack.ts';
import { Timings } from './timings.ts';
import { fetchUserinfo } from './userinfo.ts';
import { allocateWith, mismatchedCredential, relayRoundTrip } from './turn-checks.ts';

const WAIT_MS = 20_000;

// Generous per-test limit: on a loaded 2-core CI machine Synapse alone can take seconds per call.
describe(
  'call path end to end (Synapse, livekit-server, coturn, well-known, livekit-jwt)',
  { timeout: 60_000 },
  () => {
    const timings = new Timings();
    const hop = <T>(name: string, fn: () => Promise<T>): Promise<T> => timings.measure(name, fn);
    const rooms: Room[] = [];
    // Whatever started is undone in afterAll, even when a later start or step failed.
    const cleanup: (() => unknown)[] = [];
    let stack: Stack;
    let alice: LoggedIn;
    let bob: LoggedIn;
    let roomId: string;
    const sfu = new Map<string, SfuConfig>();

    const join = async (name: string, config: SfuConfig, options = {}): Promise<Room> => {
      const room = await hop(name, () => joinCall(config.url, config.jwt, options));
      rooms.push(room);
      return room;
    };

    beforeAll(async () => {
      stack = await hop('start whole stack', () => startStack(timings));
      cleanup.push(() => stack.stop());
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(rooms.map((r) => r.disconnect()));
      await dispose();
      for (const undo of cleanup.reverse()) await undo();
      console.log(timings.report('e2e call path'));
    });

    it('should discover the homeserver and the LiveKit focus from the domain (AutoDiscovery)', async () => {
      AutoDiscovery.setFetchFn(stack.fetch);
      const config = await hop('AutoDiscovery.findClientConfig', () =>
        AutoDiscovery.findClientConfig(DOMAIN),
      );
      expect(config['m.homeserver']).toMatchObject({
        state: AutoDiscoveryAction.SUCCESS,
        base_url: stack.publicBaseUrl,
      });
      expect(config['org.matrix.msc4143.rtc_foci']).toEqual([
        { type: 'livekit', livekit_service_url: stack.livekitServiceUrl },
      ]);
      const res = await stack.fetch(`https://${DOMAIN}/.well-known/matrix/client`, {
        headers: { origin: 'https://app.element.io' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('should register two users, log them in with matrix-js-sdk and put both in one room', async () => {
      const [a, b] = await hop('register 2 users (shared secret)', () =>
        Promise.all([stack.synapse.register('alice'), stack.synapse.register('bob')]),
      );
      [alice, bob] = await hop('log in 2 users', () =>
        Promise.all([
          loginWithPassword(stack.publicBaseUrl, a, stack.fetch),
          loginWithPassword(stack.publicBaseUrl, b, stack.fetch),
        ]),
      );
      cleanup.push(
        () => {
          alice.client.stopClient();
        },
        () => {
          bob.client.stopClient();
        },
      );
      roomId = await hop('create room, invite, join', async () => {
        const { room_id: id } = await alice.client.createRoom({ invite: [bob.userId] });
        await bob.client.joinRoom(id);
        return id;
      });
      const members = await alice.client.getJoinedRoomMembers(roomId);
      expect(Object.keys(members.joined).sort()).toEqual([alice.userId, bob.userId].sort());
    });

    it('should answer the MSC4143 transports endpoint for a logged-in user and refuse a bad token', async () => {
      const transports = await hop('rtc/transports', () =>
        alice.client._unstable_getRTCTransports(),
      );
      expect(transports).toEqual([
        { type: 'livekit', livekit_service_url: stack.livekitServiceUrl },
      ]);
      const intruder = clientWithToken(stack.publicBaseUrl, 'syt_not_a_real_token', stack.fetch);
      await expect(intruder._unstable_getRTCTransports()).rejects.toMatchObject({
        httpStatus: 401,
        errcode: 'M_UNKNOWN_TOKEN',
      });
    });

    it('should exchange each OpenID token for a LiveKit JWT for the same room (/get_token, /sfu/get)', async () => {
      const verifier = new TokenVerifier(stack.secrets.livekitKey, stack.secrets.livekitSecret);
      for (const user of [alice, bob]) {
        const openid: IOpenIDToken = await hop(`getOpenIdToken (${user.userId})`, () =>
          user.client.getOpenIdToken(),
        );
        const userinfo = await hop('GET openid/userinfo on Synapse (TLS)', () =>
          fetchUserinfo(stack.synapse.federationUrl, stack.federationCa, openid.access_token),
        );
        expect(userinfo).toEqual({ status: 200, body: { sub: user.userId } });
        const member = callMember(user.userId, user.deviceId);
        const res = await hop('POST /get_token (userinfo on Synapse)', () =>
          getToken(stack.fetch, stack.livekitServiceUrl, roomId, openid, member),
        );
        const config = sfuConfig(res);
        expect(config.url).toBe(stack.livekit.wsUrl);
        const claims = await verifier.verify(config.jwt);
        expect(claims.sub).toBe(hashedName([user.userId, user.deviceId, member.id]));
        expect(claims.video).toMatchObject({
          roomJoin: true,
          room: hashedName([roomId, CALL_SLOT]),
        });
        sfu.set(user.userId, config);

        const legacy = sfuConfig(
          await hop('POST /sfu/get (legacy)', () =>
            sfuGet(stack.fetch, stack.livekitServiceUrl, roomId, openid, user.deviceId),
          ),
        );
        const legacyClaims = await verifier.verify(legacy.jwt);
        expect(legacyClaims.sub).toBe(`${user.userId}:${user.deviceId}`);
        expect(legacyClaims.video?.room).toBe(claims.video?.room);
      }
    });

    it('should refuse an OpenID token of user A presented as user B', async () => {
      const openid = await alice.client.getOpenIdToken();
      const res = await getToken(
        stack.fetch,
        stack.livekitServiceUrl,
        roomId,
        openid,
        callMember(bob.userId, bob.deviceId),
      );
      expect(res.status).toBe(401);
      expect(res.body.errcode).toBe('M_UNAUTHORIZED');
    });

    it('should connect both users to LiveKit, show each to the other and deliver a data message', async () => {
      const [a, b] = [sfu.get(alice.userId), sfu.get(bob.userId)];
      if (!a || !b) throw new Error('no LiveKit JWTs from the previous step');
      const roomA = await join('LiveKit connect (alice)', a);
      const roomB = await join('LiveKit connect (bob)', b);
      const idA = roomA.localParticipant?.identity ?? '';
      const idB = roomB.localParticipant?.identity ?? '';
      await hop('participants see each other', () =>
        within(
          WAIT_MS,
          'participant',
          Promise.all([seeParticipant(roomA, idB), seeParticipant(roomB, idA)]),
        ),
      );
      expect(roomA.name).toBe(roomB.name);
      const received = nextMessage(roomB, 'e2e');
      await sendMessage(roomA, 'e2e', 'hello from alice');
      expect(
        await hop('data message A→B', () => within(WAIT_MS, 'data message', received)),
      ).toEqual({
        text: 'hello from alice',
        from: idA,
      });
      await Promise.all([roomA.disconnect(), roomB.disconnect()]);
    });

    it('should carry data and audio through coturn with the TURN credentials Synapse hands out (relay-only ICE)', async () => {
      const [turnA, turnB] = await hop('GET /voip/turnServer ×2', () =>
        Promise.all([alice.client.turnServer(), bob.client.turnServer()]),
      );
      for (const [turn, user] of [
        [turnA, alice],
        [turnB, bob],
      ] as const) {
        expect(turn).toMatchObject({ uris: [stack.turnUri], ttl: 3600 });
        expect(turn.username).toMatch(new RegExp(`^\\d+:${user.userId}$`));
        expect(turn.password).toBe(turnPassword(stack.secrets.turnSecret, turn.username));
      }
      const [a, b] = [sfu.get(alice.userId), sfu.get(bob.userId)];
      if (!a || !b) throw new Error('no LiveKit JWTs from the previous step');
      const roomA = await join('LiveKit connect relay-only (alice)', a, relayOnly(turnA));
      const roomB = await join('LiveKit connect relay-only (bob)', b, relayOnly(turnB));
      const idA = roomA.localParticipant?.identity ?? '';
      await hop('participants see each other (relay)', () =>
        within(WAIT_MS, 'participant', seeParticipant(roomB, idA)),
      );
      const received = nextMessage(roomB, 'relay');
      await sendMessage(roomA, 'relay', 'via coturn');
      expect(
        await hop('data message A→B (relay)', () => within(WAIT_MS, 'relayed message', received)),
      ).toMatchObject({ text: 'via coturn' });
      const tone = await publishTone(roomA);
      try {
        const peak = await hop('audio A→B (relay): first loud frame', () =>
          within(WAIT_MS, 'relayed audio', hearSound(roomB, idA)),
        );
        expect(peak).toBeGreaterThan(1000);
      } finally {
        await tone.stop();
      }

      // Every local candidate the client used is a relay on our coturn, and coturn logged the
      // allocations for exactly the usernames Synapse issued.
      for (const room of [roomA, roomB]) {
        const used = await localCandidates(room);
        expect(used.types.length).toBeGreaterThan(0);
        expect(new Set(used.types)).toEqual(new Set(['RELAY']));
        expect(new Set(used.urls)).toEqual(new Set([stack.turnUri]));
      }
      const log = await stack.coturn.log();
      for (const turn of [turnA, turnB]) {
        expect(log).toContain(
          `user <${turn.username}>: incoming packet ALLOCATE processed, success`,
        );
      }
      await Promise.all([roomA.disconnect(), roomB.disconnect()]);
    });

    it('should not connect relay-only when coturn refuses the credential (TURN secret mismatch)', async () => {
      const a = sfu.get(alice.userId);
      if (!a) throw new Error('no LiveKit JWT from the previous step');
      const turn = mismatchedCredential(stack, alice.userId);
      // rtc-node gives up on its own once ICE cannot complete (about 30 s): no timer decides here.
      const outcome = await hop('LiveKit connect relay-only, refused credential', () =>
        joinCall(a.url, a.jwt, relayOnly(turn)).then(
          (room) => {
            rooms.push(room);
            return 'connected';
          },
          (err: unknown) => String(err),
        ),
      );
      expect(outcome).toMatch(/connection|timed out|failed/i);
      const log = await stack.coturn.log();
      expect(log).not.toContain(
        `user <${turn.username}>: incoming packet ALLOCATE processed, success`,
      );
    }, 120_000);

    it('should have livekit-server reject a JWT signed with the wrong secret', async () => {
      const a = sfu.get(alice.userId);
      if (!a) throw new Error('no LiveKit JWT from the previous step');
      const claims = await new TokenVerifier(
        stack.secrets.livekitKey,
        stack.secrets.livekitSecret,
      ).verify(a.jwt);
      const forged = new AccessToken(stack.secrets.livekitKey, 'not-the-secret-'.padEnd(48, 'x'), {
        identity: claims.sub ?? 'mallory',
      });
      forged.addGrant({ roomJoin: true, room: claims.video?.room ?? '' });
      await expect(joinCall(a.url, await forged.toJwt())).rejects.toThrow(/401|invalid token/i);
    });

    it('should have coturn refuse an expired TURN credential and relay with a fresh one from Synapse', async () => {
      const fresh = await alice.client.turnServer();
      const expired = await hop('TURN Allocate, expired credential', () =>
        allocateWith(stack, { user: alice.userId, expiredSecondsAgo: 60 }),
      );
      expect(expired).toMatchObject({ ok: false, code: 401 });
      const echoed = await hop('TURN Allocate + Send, Synapse credential', () =>
        relayRoundTrip(fresh, 'turn check'),
      );
      expect(echoed).toBe('turn check');
    });
  },
);
