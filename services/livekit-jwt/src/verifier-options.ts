import type { OpenIdVerifierOptions } from '@rtc-sidecars/matrix-openid';
import type { ServiceConfig } from './config.ts';

/**
 * The OpenID verifier settings that follow from the configuration: the SSRF guard switch, the
 * per-server overrides and the skip-TLS magic value. Kept apart from `server.ts` so tests build
 * the very same verifier the process runs.
 */
export function verifierOptions(
  config: Pick<
    ServiceConfig,
    'allowPrivateHomeservers' | 'openIdOverrides' | 'insecureSkipVerifyTls'
  >,
): OpenIdVerifierOptions {
  return {
    allowPrivate: config.allowPrivateHomeservers,
    overrides: config.openIdOverrides,
    insecureSkipVerifyTls: config.insecureSkipVerifyTls,
  };
}
