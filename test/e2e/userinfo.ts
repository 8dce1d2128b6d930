import { get } from 'node:https';

/**
 * Asks Synapse's federation listener who an OpenID token belongs to, over TLS verified against
 * the test CA (the same request livekit-jwt makes).
 */
export function fetchUserinfo(
  federationUrl: string,
  ca: string,
  accessToken: string,
): Promise<{ status: number; body: unknown }> {
  const url = new URL('/_matrix/federation/v1/openid/userinfo', federationUrl);
  url.searchParams.set('access_token', accessToken);
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
      });
    }).on('error', reject);
  });
}
