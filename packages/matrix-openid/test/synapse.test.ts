import { requireSynapse, startSynapse, type Synapse } from '@rtc-sidecars/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenIdVerifier, type OpenIdVerifier } from '../src/index.ts';
import { failure } from './helpers.ts';

// The happy path against the real thing: Synapse issues the OpenID token and answers userinfo on
// its federation listener (plain HTTP on loopback, so it is reached through an override, exactly
// as a compose deployment reaches its homeserver over the internal network).

let synapse: Synapse;
let verifier: OpenIdVerifier;

beforeAll(async () => {
  requireSynapse();
  synapse = await startSynapse();
  verifier = createOpenIdVerifier({
    overrides: new Map([[synapse.serverName, synapse.federationUrl]]),
  });
}, 60_000);

afterAll(async () => {
  await verifier.close();
  await synapse.stop();
});

async function openIdToken(userId: string, accessToken: string) {
  const response = await fetch(
    `${synapse.baseUrl}/_matrix/client/v3/user/${encodeURIComponent(userId)}/openid/request_token`,
    { method: 'POST', headers: { authorization: `Bearer ${accessToken}` }, body: '{}' },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; matrix_server_name: string };
}

describe('OpenIdVerifier against Synapse', () => {
  it('should return the user of a real OpenID token', async () => {
    const user = await synapse.register('alice');
    const token = await openIdToken(user.userId, user.accessToken);
    expect(token.matrix_server_name).toBe(synapse.serverName);
    await expect(
      verifier.verify({ accessToken: token.access_token, serverName: token.matrix_server_name }),
    ).resolves.toEqual({ sub: user.userId });
  });

  it('should report rejected for a token Synapse does not know', async () => {
    const error = await failure(
      verifier.verify({ accessToken: 'not-a-real-token', serverName: synapse.serverName }),
      'not-a-real-token',
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/HTTP 401 M_UNKNOWN_TOKEN/);
  });

  it('should refuse the same loopback homeserver without the override', async () => {
    const user = await synapse.register('bob');
    const token = await openIdToken(user.userId, user.accessToken);
    const plain = createOpenIdVerifier({});
    try {
      const error = await failure(
        plain.verify({ accessToken: token.access_token, serverName: token.matrix_server_name }),
        token.access_token,
      );
      expect(error.kind).toBe('refused_by_policy');
    } finally {
      await plain.close();
    }
  });
});
