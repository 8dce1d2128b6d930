/**
 * A failure of the token service with the status, `errcode` and `error` string the reference
 * service answers with. The message goes to the client verbatim, so it never holds details;
 * those belong in `cause` (logged, never sent).
 */
export class TokenError extends Error {
  public readonly statusCode: number;
  public readonly errcode: string;
  /** Metric label naming the outcome, e.g. `bad_json` or `openid_timeout`. */
  public readonly outcome: string;

  public constructor(
    statusCode: number,
    errcode: string,
    message: string,
    outcome: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TokenError';
    this.statusCode = statusCode;
    this.errcode = errcode;
    this.outcome = outcome;
  }
}

/** The reference's exact client-facing strings, so a conformance test can compare bytes. */
export const MESSAGES = Object.freeze({
  notJson: 'Error reading request',
  missingRoomOrSlot: 'The request body is missing `room_id` or `slot_id`',
  missingMember:
    'The request body `member` is missing a `id`, `claimed_user_id` or `claimed_device_id`',
  missingOpenId:
    'The request body `openid_token` is missing a `access_token` or `matrix_server_name`',
  missingDelay: 'The request body is missing `delay_id` or `delay_timeout`',
  missingRoom: 'Missing room parameter',
  missingOpenIdLegacy: 'Missing OpenID token parameters',
  restrictedDelegation: 'Delegation of delayed events is only supported for full access users',
  // `/delegate_delayed_leave` words these two without the "a" of `/get_token`, as upstream does.
  missingMemberDelegate:
    'The request body `member` is missing `id`, `claimed_user_id` or `claimed_device_id`',
  missingOpenIdDelegate:
    'The request body `openid_token` is missing `access_token` or `matrix_server_name`',
  csApiUnresolvable: 'Unable to resolve client-server API',
  shuttingDown: 'Service is shutting down',
  // Ours (the reference has no shared store to lose): the job store (Redis) cannot be reached.
  storeUnavailable: 'Delayed leave delegation is temporarily unavailable; retry later',
  unauthorised: 'The request could not be authorised.',
  roomCreation: 'Unable to create room on SFU',
  internal: 'Internal Server Error',
});

/** 400 `M_NOT_JSON` "Error reading request": the body is not JSON of the expected shape. */
export function notJson(cause?: unknown): TokenError {
  return new TokenError(400, 'M_NOT_JSON', MESSAGES.notJson, 'not_json', { cause });
}

/** 400 `M_BAD_JSON` with one of the validation messages. */
export function badJson(message: string): TokenError {
  return new TokenError(400, 'M_BAD_JSON', message, 'bad_json');
}

/** 401 `M_UNAUTHORIZED`: every OpenID failure looks the same to the client. */
export function unauthorised(outcome: string, cause?: unknown): TokenError {
  return new TokenError(401, 'M_UNAUTHORIZED', MESSAGES.unauthorised, outcome, { cause });
}
