import { randomBytes } from 'node:crypto';
import { turnPassword } from '@rtc-sidecars/turn';
import { AccessToken, RoomServiceClient, TokenVerifier } from 'livekit-server-sdk';
import { expect, it } from 'vitest';
import type { CallContext } from './call-context.ts';
import { callMember, getToken } from './element-call.ts';
import { joinCall, joinResponseIceServers, relayOnly } from './livekit-participant.ts';
import { startLivekitWithTurnSecret } from './stack.ts';
import {
  allocatedUsernames,
  allocateWith,
  allocateWithIceServer,
  relayRoundTrip,
} from './turn-checks.ts';

/** What must fail on the same stack, each for the reason an operator would meet it. */
export function negativePathSteps(ctx: CallContext): void {
  it('should refuse an OpenID token of user A presented as user B', async () => {
    const { stack, alice, bob } = ctx;
    const openid = await alice.client.getOpenIdToken();
    const member = callMember(bob.userId, bob.deviceId);
    const res = await getToken(stack.fetch, stack.livekitServiceUrl, ctx.roomId, openid, member);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_UNAUTHORIZED');
  });

  it("should not connect relay-only when LiveKit's TURN secret differs from coturn's", async () => {
    const { stack } = ctx;
    const wrong = await startLivekitWithTurnSecret(stack, randomBytes(32).toString('hex'));
    ctx.cleanup.push(() => wrong.stop());
    const { livekitKey, livekitSecret } = stack.secrets;
    const room = 'turn-secret-mismatch';
    await new RoomServiceClient(wrong.httpUrl, livekitKey, livekitSecret).createRoom({
      name: room,
    });
    const token = new AccessToken(livekitKey, livekitSecret, { identity: 'carol' });
    token.addGrant({ roomJoin: true, room });
    const jwt = await token.toJwt();
    // LiveKit still names coturn, with credentials coturn refuses.
    const join = await joinResponseIceServers(wrong.wsUrl, jwt);
    expect(join.iceServers.flatMap((s) => s.urls)).toEqual(stack.livekitTurnUris);
    for (const server of join.iceServers) {
      expect(server.credential).not.toBe(turnPassword(stack.secrets.turnSecret, server.username));
      expect(await allocateWithIceServer(server)).toEqual({ ok: false, code: 401 });
    }
    const before = allocatedUsernames(await stack.coturn.log()).length;
    // rtc-node gives up on its own once ICE cannot complete (about 30 s): no timer decides here.
    const outcome = await ctx.hop(
      'LiveKit connect relay-only, LiveKit with a wrong TURN secret',
      () =>
        joinCall(wrong.wsUrl, jwt, relayOnly()).then(
          (r) => {
            ctx.rooms.push(r);
            return 'connected';
          },
          (err: unknown) => String(err),
        ),
    );
    expect(outcome).toMatch(/connection|timed out|failed/i);
    expect(allocatedUsernames(await stack.coturn.log())).toHaveLength(before);
  }, 120_000);

  it('should have livekit-server reject a JWT signed with the wrong secret', async () => {
    const { stack } = ctx;
    const sfu = ctx.sfu(ctx.alice);
    const { livekitKey, livekitSecret } = stack.secrets;
    const claims = await new TokenVerifier(livekitKey, livekitSecret).verify(sfu.jwt);
    const forged = new AccessToken(livekitKey, 'not-the-secret-'.padEnd(48, 'x'), {
      identity: claims.sub ?? 'mallory',
    });
    forged.addGrant({ roomJoin: true, room: claims.video?.room ?? '' });
    await expect(joinCall(sfu.url, await forged.toJwt())).rejects.toThrow(/401|invalid token/i);
  });

  it('should have coturn refuse an expired TURN credential and relay with a fresh one from Synapse', async () => {
    const { stack, alice } = ctx;
    const fresh = await alice.client.turnServer();
    const expired = await ctx.hop('TURN Allocate, expired credential', () =>
      allocateWith(stack, { user: alice.userId, expiredSecondsAgo: 60 }),
    );
    expect(expired).toMatchObject({ ok: false, code: 401 });
    const echoed = await ctx.hop('TURN Allocate + Send, Synapse credential', () =>
      relayRoundTrip(fresh, 'turn check'),
    );
    expect(echoed).toBe('turn check');
  });
}
