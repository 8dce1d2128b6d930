// Public API of @rtc-sidecars/matrix-openid. The verifier itself is being built; this file
// already fixes the contract that services/livekit-jwt codes against:
//
//   const verifier = createOpenIdVerifier({ allowPrivate, overrides, insecureSkipVerifyTls });
//   const { sub } = await verifier.verify({ accessToken, serverName }); // throws OpenIdError
//   await verifier.close();
export { OpenIdError, type OpenIdFailureKind } from './openid-error.ts';
