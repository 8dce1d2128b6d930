// The livekit-jwt side of the SSRF tests, shared by ssrf.test.ts (in-process) and
// ssrf-netns-scenarios.ts (in a network namespace): the same service config and the same
// /get_token request, so both ask the service the same question about a hostile server name.
import { buildApp } from '@rtc-sidecars/livekit-jwt';
import type { OpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { livekitJwtConfig } from './in-process-apps.ts';

/**
 * livekit-jwt with `verifier`, no rate limit (the tests ask many times from one address) and
 * full access for example.com only, so no hostile server name can pass on a full-access rule.
 */
export async function buildSsrfApp(verifier: OpenIdVerifier): Promise<FastifyInstance> {
  return buildApp({ config: livekitJwtConfig(), verifier, logStream: false });
}

/** POST /get_token with an OpenID token claimed to come from `serverName`. */
export function requestToken(
  app: FastifyInstance,
  serverName: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/get_token',
    payload: {
      room_id: '!room:example.com',
      slot_id: 'm.call#ROOM',
      openid_token: {
        access_token: 'good',
        matrix_server_name: serverName,
        token_type: 'Bearer',
        expires_in: 3600,
      },
      member: { id: 'm', claimed_user_id: `@alice:${serverName}`, claimed_device_id: 'D' },
    },
  });
}
