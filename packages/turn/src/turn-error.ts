/**
 * What went wrong talking to a TURN server:
 * - `error-response`: the server answered with a STUN error; `code` holds it (401, 403, 438, …);
 * - `timeout`: no answer within the time limit (after retransmissions on UDP);
 * - `network`: the socket could not be opened, or failed;
 * - `closed`: the client or the connection was closed while waiting;
 * - `protocol`: the server's answer made no sense (missing attribute, bad framing);
 * - `usage`: the call itself was wrong (no credentials, unsupported URI).
 */
export type TurnErrorKind =
  'error-response' | 'timeout' | 'network' | 'closed' | 'protocol' | 'usage';

/** Reason phrases of the STUN/TURN error codes (RFC 5389 §15.6, RFC 5766 §15, RFC 6156). */
export const STUN_ERROR_REASONS: Readonly<Record<number, string>> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};

/** Options of the {@link TurnError} constructor. */
export interface TurnErrorOptions {
  readonly kind: TurnErrorKind;
  /** The STUN method that failed, e.g. `Allocate`. */
  readonly method?: string;
  /** STUN error code, for `error-response`. */
  readonly code?: number;
  /** The server's reason phrase, for `error-response`. */
  readonly reason?: string;
  readonly cause?: unknown;
}

/** Every failure of the TURN client; `kind` says what sort, `code` carries the STUN error code. */
export class TurnError extends Error {
  public readonly kind: TurnErrorKind;
  public readonly method: string | undefined;
  public readonly code: number | undefined;
  public readonly reason: string | undefined;

  public constructor(message: string, options: TurnErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TurnError';
    this.kind = options.kind;
    this.method = options.method;
    this.code = options.code;
    this.reason = options.reason;
  }

  /** An error built from a STUN error response. */
  public static fromResponse(method: string, code: number, reason: string): TurnError {
    const phrase = reason.trim() === '' ? (STUN_ERROR_REASONS[code] ?? 'error') : reason.trim();
    return new TurnError(`${method} failed: ${code} ${phrase}`, {
      kind: 'error-response',
      method,
      code,
      reason: phrase,
    });
  }
}
