import {
  createOpenIdVerifier,
  type OpenIdIdentity,
  type OpenIdTokenInput,
  type OpenIdVerifier,
} from './openid-verifier.ts';

let shared: OpenIdVerifier | undefined;

/**
 * Verifies one OpenID token with a process-wide verifier built with the defaults (SSRF guard
 * on, no overrides, TLS verified). Services with configuration should hold their own
 * {@link createOpenIdVerifier} instead; this form exists for scripts and one-off checks.
 */
export async function verifyOpenIdToken(input: OpenIdTokenInput): Promise<OpenIdIdentity> {
  shared ??= createOpenIdVerifier();
  return shared.verify(input);
}
