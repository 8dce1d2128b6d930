import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSynapse, type Synapse } from '@rtc-sidecars/test-harness';
import { type LoggedIn, loginWithPassword } from './matrix-login.ts';

const turnSecret = randomBytes(32).toString('base64url');
const turnUris = ['turn:127.0.0.1:3478?transport=udp'];

describe('Synapse harness', () => {
  let synapse: Synapse;
  let alice: LoggedIn;
  let bob: LoggedIn;

  beforeAll(async () => {
    synapse = await startSynapse({ turn: { uris: turnUris, sharedSecret: turnSecret } });
    const [a, b] = await Promise.all([synapse.register('alice'), synapse.register('bob')]);
    [alice, bob] = await Promise.all([
      loginWithPassword(synapse.baseUrl, a),
      loginWithPassword(synapse.baseUrl, b),
    ]);
  }, 90_000);

  afterAll(async () => {
    alice.client.stopClient();
    bob.client.stopClient();
    await synapse.stop();
  });

  it('should register and log in two users on the configured server name', async () => {
    expect(alice.userId).toBe(`@alice:${synapse.serverName}`);
    expect(bob.userId).toBe(`@bob:${synapse.serverName}`);
    expect((await alice.client.whoami()).user_id).toBe(alice.userId);
  });

  it('should let both users join a room that one of them created', async () => {
    const { room_id: roomId } = await alice.client.createRoom({
      name: 'call',
      invite: [bob.userId],
    });
    await bob.client.joinRoom(roomId);
    const members = await alice.client.getJoinedRoomMembers(roomId);
    expect(Object.keys(members.joined).sort()).toEqual([alice.userId, bob.userId].sort());
  });

  it('should validate each OpenID token on the federation listener and refuse a made-up one', async () => {
    for (const user of [alice, bob]) {
      const openid = await user.client.getOpenIdToken();
      expect(openid.matrix_server_name).toBe(synapse.serverName);
      const res = await fetch(
        `${synapse.federationUrl}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(openid.access_token)}`,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: user.userId });
    }
    const bad = await fetch(
      `${synapse.federationUrl}/_matrix/federation/v1/openid/userinfo?access_token=nope`,
    );
    expect(bad.status).toBe(401);
  });

  it('should hand out TURN REST credentials signed with the shared secret', async () => {
    const turn = await alice.client.turnServer();
    expect(turn.uris).toEqual(turnUris);
    expect(turn.ttl).toBe(3600);
    expect(turn.username).toMatch(new RegExp(`^\\d+:${alice.userId}$`));
    const expected = createHmac('sha1', turnSecret).update(turn.username).digest('base64');
    expect(turn.password).toBe(expected);
  });
});
