// Public API of @rtc-sidecars/matrix-openid:
//
//   const verifier = createOpenIdVerifier({ allowPrivate, overrides, insecureSkipVerifyTls });
//   const { sub } = await verifier.verify({ accessToken, serverName }); // throws OpenIdError
//   await verifier.close();
export { OpenIdError, type OpenIdFailureKind } from './openid-error.ts';
export {
  createOpenIdVerifier,
  type OpenIdIdentity,
  type OpenIdTokenInput,
  type OpenIdVerifier,
  type OpenIdVerifierOptions,
} from './openid-verifier.ts';
export { verifyOpenIdToken } from './verify-openid-token.ts';
export { parseOpenIdOverrides } from './openid-overrides.ts';
export {
  formatAuthority,
  isValidServerName,
  parseServerName,
  type ServerName,
} from './server-name.ts';
export { parseUserId, type UserId } from './user-id.ts';
export { type AddressClass, classifyAddress, isPublicAddress } from './classify-address.ts';
export {
  type DnsResolver,
  type LookupAddress,
  type SrvRecord,
  systemDnsResolver,
} from './dns-resolver.ts';
export { type Destination } from './server-resolver.ts';
export { WELL_KNOWN_CACHE_BOUNDS, wellKnownCacheLifetimeMs } from './cache-lifetime.ts';
export {
  AddressRefusedError,
  createGuardedConnector,
  type GuardedConnectorOptions,
} from './guarded-connector.ts';
