/**
 * Why an OpenID token could not be verified. The service logs the kind (and counts it in
 * metrics) while the client only ever sees the reference service's 401.
 *
 * - `unreachable`: DNS failure, connection refused or reset, TLS failure.
 * - `timeout`: connect or total deadline exceeded.
 * - `rejected`: the homeserver answered 401/403/404 (token unknown or expired, or federation off),
 *   or the token is unusable (empty, over 4 096 characters, not well-formed UTF-16) and was not sent.
 * - `bad_response`: any other status, non-JSON, oversized body, missing or malformed `sub`.
 * - `server_mismatch`: `sub` is a valid user ID but its server part is not the claimed server.
 * - `refused_by_policy`: the SSRF guard refused the address (private, loopback, …), or the
 *   server name is not valid Matrix server-name syntax (nothing is looked up for it).
 */
export type OpenIdFailureKind =
  'unreachable' | 'timeout' | 'rejected' | 'bad_response' | 'server_mismatch' | 'refused_by_policy';

/** A typed verification failure; `message` is for logs and never contains the token. */
export class OpenIdError extends Error {
  public readonly kind: OpenIdFailureKind;

  public constructor(kind: OpenIdFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpenIdError';
    this.kind = kind;
  }
}
