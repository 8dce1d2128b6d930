import { turnPassword } from '@rtc-sidecars/turn';
import { TokenVerifier } from 'livekit-server-sdk';
import { AutoDiscovery, AutoDiscoveryAction } from 'matrix-js-sdk';
import { expect, it } from 'vitest';
import { hearSound, publishTone } from './audio.ts';
import { type CallContext, WAIT_MS } from './call-context.ts';
import { CALL_SLOT, callMember, getToken, hashedName, sfuConfig, sfuGet } from './element-call.ts';
import {
  joinResponseIceServers,
  localCandidates,
  nextMessage,
  relayOnly,
  seeParticipant,
  sendMessage,
  within,
} from './livekit-participant.ts';
import { clientWithToken, loginWithPassword } from './matrix-login.ts';
import { DOMAIN } from './stack.ts';
import { allocatedUsernames } from './turn-checks.ts';
import { fetchUserinfo } from './userinfo.ts';

/** The hops a working call makes, in the order Element Call makes them. */
export function callPathSteps(ctx: CallContext): void {
  it('should discover the homeserver and the LiveKit focus from the domain (AutoDiscovery)', async () => {
    const { stack } = ctx;
    AutoDiscovery.setFetchFn(stack.fetch);
    const config = await ctx.hop('AutoDiscovery.findClientConfig', () =>
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
    const { stack } = ctx;
    const [a, b] = await ctx.hop('register 2 users (shared secret)', () =>
      Promise.all([stack.synapse.register('alice'), stack.synapse.register('bob')]),
    );
    const [alice, bob] = await ctx.hop('log in 2 users', () =>
      Promise.all([
        loginWithPassword(stack.publicBaseUrl, a, stack.fetch),
        loginWithPassword(stack.publicBaseUrl, b, stack.fetch),
      ]),
    );
    ctx.cleanup.push(() => {
      alice.client.stopClient();
      bob.client.stopClient();
    });
    ctx.alice = alice;
    ctx.bob = bob;
    ctx.roomId = await ctx.hop('create room, invite, join', async () => {
      const { room_id: id } = await alice.client.createRoom({ invite: [bob.userId] });
      await bob.client.joinRoom(id);
      return id;
    });
    const members = await alice.client.getJoinedRoomMembers(ctx.roomId);
    expect(Object.keys(members.joined).sort()).toEqual([alice.userId, bob.userId].sort());
  });

  it('should answer the MSC4143 transports endpoint for a logged-in user and refuse a bad token', async () => {
    const { stack } = ctx;
    const transports = await ctx.hop('rtc/transports', () =>
      ctx.alice.client._unstable_getRTCTransports(),
    );
    expect(transports).toEqual([{ type: 'livekit', livekit_service_url: stack.livekitServiceUrl }]);
    const intruder = clientWithToken(stack.publicBaseUrl, 'syt_not_a_real_token', stack.fetch);
    await expect(intruder._unstable_getRTCTransports()).rejects.toMatchObject({
      httpStatus: 401,
      errcode: 'M_UNKNOWN_TOKEN',
    });
  });

  it('should exchange each OpenID token for a LiveKit JWT for the same room (/get_token, /sfu/get)', async () => {
    const { stack, roomId } = ctx;
    const verifier = new TokenVerifier(stack.secrets.livekitKey, stack.secrets.livekitSecret);
    for (const user of [ctx.alice, ctx.bob]) {
      const openid = await ctx.hop(`getOpenIdToken (${user.userId})`, () =>
        user.client.getOpenIdToken(),
      );
      const userinfo = await ctx.hop('GET openid/userinfo on Synapse (TLS)', () =>
        fetchUserinfo(stack.synapse.federationUrl, stack.federationCa, openid.access_token),
      );
      expect(userinfo).toEqual({ status: 200, body: { sub: user.userId } });
      const member = callMember(user.userId, user.deviceId);
      const config = sfuConfig(
        await ctx.hop('POST /get_token (userinfo on Synapse)', () =>
          getToken(stack.fetch, stack.livekitServiceUrl, roomId, openid, member),
        ),
      );
      expect(config.url).toBe(stack.livekit.wsUrl);
      const claims = await verifier.verify(config.jwt);
      expect(claims.sub).toBe(hashedName([user.userId, user.deviceId, member.id]));
      expect(claims.video).toMatchObject({ roomJoin: true, room: hashedName([roomId, CALL_SLOT]) });
      ctx.setSfu(user, config);

      const legacy = sfuConfig(
        await ctx.hop('POST /sfu/get (legacy)', () =>
          sfuGet(stack.fetch, stack.livekitServiceUrl, roomId, openid, user.deviceId),
        ),
      );
      const legacyClaims = await verifier.verify(legacy.jwt);
      expect(legacyClaims.sub).toBe(`${user.userId}:${user.deviceId}`);
      expect(legacyClaims.video?.room).toBe(claims.video?.room);
    }
  });

  it('should connect both users to LiveKit, show each to the other and deliver a data message', async () => {
    const roomA = await ctx.join('LiveKit connect (alice)', ctx.sfu(ctx.alice));
    const roomB = await ctx.join('LiveKit connect (bob)', ctx.sfu(ctx.bob));
    const idA = roomA.localParticipant?.identity ?? '';
    const idB = roomB.localParticipant?.identity ?? '';
    await ctx.hop('participants see each other', () =>
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
      await ctx.hop('data message A→B', () => within(WAIT_MS, 'data message', received)),
    ).toEqual({
      text: 'hello from alice',
      from: idA,
    });
    await Promise.all([roomA.disconnect(), roomB.disconnect()]);
  });

  it('should hand out coturn credentials on /voip/turnServer for legacy 1:1 calls', async () => {
    const { stack, alice } = ctx;
    const turn = await ctx.hop('GET /voip/turnServer', () => alice.client.turnServer());
    expect(turn).toMatchObject({ uris: [stack.turnUri], ttl: 3600 });
    expect(turn.username).toMatch(new RegExp(`^\\d+:${alice.userId}$`));
    expect(turn.password).toBe(turnPassword(stack.secrets.turnSecret, turn.username));
  });

  it("should carry data and audio through coturn with only the ICE servers LiveKit's join response hands out (relay-only ICE)", async () => {
    const { stack, alice, bob } = ctx;
    const now = Math.floor(Date.now() / 1000);
    // What Element Call is handed: the join response's ICE servers, read as doctor reads them.
    // They come from the generated livekit.yaml's rtc.turn_servers and name the stack's coturn,
    // with `<expiry>:<participant sid>` usernames and HMAC-SHA1 credentials under TURN_SECRET.
    for (const user of [alice, bob]) {
      const sfu = ctx.sfu(user);
      const join = await ctx.hop('join response ICE servers', () =>
        joinResponseIceServers(sfu.url, sfu.jwt),
      );
      expect(join.iceServers.flatMap((s) => s.urls)).toEqual(stack.livekitTurnUris);
      for (const server of join.iceServers) {
        const [expiry, sid] = server.username.split(':');
        expect(sid).toBe(join.participantSid);
        expect(Number(expiry)).toBeGreaterThan(now);
        expect(server.credential).toBe(turnPassword(stack.secrets.turnSecret, server.username));
      }
    }
    // The participants get the URL and token only; rtc-node takes the join response's servers.
    const roomA = await ctx.join(
      'LiveKit connect relay-only (alice)',
      ctx.sfu(alice),
      relayOnly(),
      1,
    );
    const roomB = await ctx.join('LiveKit connect relay-only (bob)', ctx.sfu(bob), relayOnly(), 1);
    const idA = roomA.localParticipant?.identity ?? '';
    await ctx.hop('participants see each other (relay)', () =>
      within(WAIT_MS, 'participant', seeParticipant(roomB, idA)),
    );
    const received = nextMessage(roomB, 'relay');
    await sendMessage(roomA, 'relay', 'via coturn');
    expect(
      await ctx.hop('data message A→B (relay)', () => within(WAIT_MS, 'relayed message', received)),
    ).toMatchObject({ text: 'via coturn' });
    const tone = await publishTone(roomA);
    try {
      const peak = await ctx.hop('audio A→B (relay): first loud frame', () =>
        within(WAIT_MS, 'relayed audio', hearSound(roomB, idA)),
      );
      expect(peak).toBeGreaterThan(1000);
    } finally {
      await tone.stop();
    }

    // Every local candidate the clients used is a relay on a coturn URI LiveKit named, and
    // coturn logged allocations for the usernames LiveKit signed for these very participants.
    const allocated = allocatedUsernames(await stack.coturn.log());
    for (const room of [roomA, roomB]) {
      const used = await localCandidates(room);
      expect(used.types.length).toBeGreaterThan(0);
      expect(new Set(used.types)).toEqual(new Set(['RELAY']));
      for (const url of used.urls) expect(stack.livekitTurnUris).toContain(url);
      const sid = room.localParticipant?.sid ?? '';
      expect(sid).toMatch(/^PA_/);
      const mine = allocated.filter((u) => u.endsWith(`:${sid}`));
      expect(mine.length).toBeGreaterThan(0);
      for (const u of mine) expect(Number(u.split(':')[0])).toBeGreaterThan(now);
    }
    await Promise.all([roomA.disconnect(), roomB.disconnect()]);
  }, 120_000); // room for one retried relay join per user (about 30 s each)
}
