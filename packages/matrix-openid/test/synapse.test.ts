import { requireSynapse, startSynapse, type Synapse } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenIdVerifier, type OpenIdVerifier } from '../src/index.ts';
import { failure } from './helpers.ts';

// The happy path against the real thing: Synapse issues the OpenID token and answers userinfo on
// its federation listener (plain HTTP on loopback, so it is reached through an override, exactly
// as a compose deployment reaches its homeserver over the internal network).

const state: { synapse?: Synapse; verifier?: OpenIdVerifier } = {};

beforeAll(async () => {
  requireSynapse();
  const synapse = await startSynapse();
  state.synapse = synapse;
  state.verifier = createOpenIdVerifier({
    overrides: new Map([[synapse.serverName, synapse.federationUrl]]),
  });
}, 60_000);

afterAll(async () => {
  // Either may be missing when start-up failed; that failure is reported by beforeAll.
  await state.verifier?.close();
  await state.synapse?.stop();
});

function running(): { synapse: Synapse; verifier: OpenIdVerifier } {
  const { synapse, verifier } = state;
  if (synapse === undefined || verifier === undefined) throw new Error('Synapse did not start');
  return { synapse, verifier };
}

/** A fresh user's OpenID token, as Element Call gets it before calling the JWT service. */
async function openIdToken(localpart: string) {
  const { synapse } = running();
  const user = await synapse.register(localpart);
  const response = await fetch(
    `${synapse.baseUrl}/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/openid/request_token`,
    { method: 'POST', headers: { authorization: `Bearer ${user.accessToken}` }, body: '{}' },
  );
  expect(response.status).toBe(200);
  const token = (await response.json()) as { access_token: string; matrix_server_name: string };
  return {
    userId: user.userId,
    accessToken: token.access_token,
    serverName: token.matrix_server_name,
  };
}

describe('OpenIdVerifier against Synapse', () => {
  it('should return the user of a real OpenID token', async () => {
    const { synapse, verifier } = running();
    const { userId, accessToken, serverName } = await openIdToken('alice');
    expect(serverName).toBe(synapse.serverName);
    await expect(verifier.verify({ accessToken, serverName })).resolves.toEqual({ sub: userId });
  });

  it('should report rejected for a token Synapse does not know', async () => {
    const { synapse, verifier } = running();
    const error = await failure(
      verifier.verify({ accessToken: 'not-a-real-token', serverName: synapse.serverName }),
      'not-a-real-token',
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/HTTP 401 M_UNKNOWN_TOKEN/);
  });

  it('should refuse the same loopback homeserver without the override', async () => {
    const { accessToken, serverName } = await openIdToken('bob');
    const plain = createOpenIdVerifier({});
    try {
      const error = await failure(plain.verify({ accessToken, serverName }), accessToken);
      expect(error.kind).toBe('refused_by_policy');
    } finally {
      await plain.close();
    }
  });
});
