import { MatrixError } from '@rtc-sidecars/http-kit';

/**
 * Every Matrix error this service sends, besides the generic ones of `@rtc-sidecars/http-kit`
 * (404/405 `M_UNRECOGNIZED`, malformed requests, 500 `M_UNKNOWN`). Messages are for clients and
 * never include upstream details; those go in `cause`, which is logged.
 */
export const errors = {
  /** A well-known document the operator did not configure (`server`, `support`). */
  notConfigured: (document: string): MatrixError =>
    new MatrixError(404, 'M_NOT_FOUND', `No ${document} discovery information is published here`),

  /** The transports endpoint was called without `Authorization: Bearer …`. */
  missingToken: (): MatrixError =>
    new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token', {
      headers: { 'www-authenticate': 'Bearer' },
    }),

  /** The homeserver rejected the access token. */
  unknownToken: (softLogout: boolean): MatrixError =>
    new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token', {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      extra: softLogout ? { soft_logout: true } : {},
    }),

  /** The homeserver refused this user (e.g. a locked or suspended account). */
  forbidden: (): MatrixError =>
    new MatrixError(403, 'M_FORBIDDEN', 'The homeserver refused this access token'),

  /** The homeserver could not be reached or answered something unusable. */
  homeserverUnavailable: (cause: unknown): MatrixError =>
    new MatrixError(502, 'M_UNKNOWN', 'Could not check the access token with the homeserver', {
      cause,
    }),

  /** The homeserver did not answer within `WELL_KNOWN_WHOAMI_TIMEOUT_MS`. */
  homeserverTimeout: (cause: unknown): MatrixError =>
    new MatrixError(504, 'M_UNKNOWN', 'The homeserver did not answer in time', { cause }),
} as const;
