import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import { expect, it } from 'vitest';
import type { CallContext } from './call-context.ts';
import { callMember, getToken } from './element-call.ts';
import { joinCall, relayOnly } from './livekit-participant.ts';
import { allocateWith, mismatchedCredential, relayRoundTrip } from './turn-checks.ts';

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

  it('should not connect relay-only when coturn refuses the credential (TURN secret mismatch)', async () => {
    const { stack, alice } = ctx;
    const sfu = ctx.sfu(alice);
    const turn = mismatchedCredential(stack, alice.userId);
    // rtc-node gives up on its own once ICE cannot complete (about 30 s): no timer decides here.
    const outcome = await ctx.hop('LiveKit connect relay-only, refused credential', () =>
      joinCall(sfu.url, sfu.jwt, relayOnly(turn)).then(
        (room) => {
          ctx.rooms.push(room);
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
