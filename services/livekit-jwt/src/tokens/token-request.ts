import { JsonNumber, type JsonValue } from './strict-json.ts';
import { badJson, MESSAGES, notJson, type TokenError } from './token-error.ts';

/** The OpenID token a client got from its homeserver's `/openid/request_token`. */
export interface OpenIdToken {
  readonly accessToken: string;
  readonly matrixServerName: string;
}

/** Delegated delayed leave parameters (MSC4140). */
export interface DelayParams {
  readonly delayId: string;
  /** Milliseconds; 0 when absent, negative values count as absent as upstream. */
  readonly delayTimeout: number;
  /** Accepted and ignored, as upstream does since it resolves the client-server API itself. */
  readonly delayCsApiUrl: string;
}

/** A `/get_token` (MSC4195) request. */
export interface TokenRequest extends DelayParams {
  readonly kind: 'get_token';
  readonly roomId: string;
  readonly slotId: string;
  readonly openIdToken: OpenIdToken;
  readonly member: {
    readonly id: string;
    readonly claimedUserId: string;
    readonly claimedDeviceId: string;
  };
}

/** A legacy `/sfu/get` request. */
export interface LegacyTokenRequest extends DelayParams {
  readonly kind: 'legacy';
  readonly room: string;
  readonly openIdToken: OpenIdToken;
  readonly deviceId: string;
}

/** Longest string accepted in any field; Matrix IDs are at most 255 bytes, tokens far shorter. */
export const MAX_FIELD_LENGTH = 4096;

type Kind = 'string' | 'integer' | Shape;
interface Shape {
  readonly [field: string]: Kind;
}

const OPENID: Shape = {
  access_token: 'string',
  token_type: 'string',
  matrix_server_name: 'string',
  expires_in: 'integer',
};
const DELAY: Shape = { delay_id: 'string', delay_timeout: 'integer', delay_cs_api_url: 'string' };
const GET_TOKEN: Shape = {
  room_id: 'string',
  slot_id: 'string',
  openid_token: OPENID,
  member: { id: 'string', claimed_user_id: 'string', claimed_device_id: 'string' },
  ...DELAY,
};
const LEGACY: Shape = { room: 'string', openid_token: OPENID, device_id: 'string', ...DELAY };

class ShapeError extends Error {}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Decodes `value` against `shape` the way upstream's typed decoders do: unknown fields and
 * wrong types are errors, `null` or an absent field means the zero value ("" or 0). Returns a
 * flat map from dotted path (`openid_token.access_token`) to the decoded value.
 */
function decode(
  value: JsonValue,
  shape: Shape,
  prefix = '',
  out = new Map<string, string | number>(),
): Map<string, string | number> {
  if (value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof JsonNumber) {
    throw new ShapeError(`${prefix || 'body'} is not an object`);
  }
  for (const [key, field] of Object.entries(value as Record<string, JsonValue>)) {
    const kind = Object.hasOwn(shape, key) ? shape[key] : undefined;
    const path = prefix + key;
    if (kind === undefined) throw new ShapeError(`unknown field ${path}`);
    if (field === null) continue;
    if (kind === 'string') {
      if (typeof field !== 'string') throw new ShapeError(`${path} is not a string`);
      if (field.length > MAX_FIELD_LENGTH) throw new FieldTooLong();
      out.set(path, field);
    } else if (kind === 'integer') {
      if (!(field instanceof JsonNumber) || !/^-?\d+$/.test(field.text)) {
        throw new ShapeError(`${path} is not an integer`);
      }
      const big = BigInt(field.text);
      if (big < INT64_MIN || big > INT64_MAX) throw new ShapeError(`${path} is out of range`);
      out.set(path, Number(big));
    } else {
      decode(field, kind, `${path}.`, out);
    }
  }
  return out;
}

class FieldTooLong extends Error {}

function decodeOrThrow(value: JsonValue, shape: Shape): Map<string, string | number> {
  try {
    return decode(value, shape);
  } catch (err) {
    if (err instanceof FieldTooLong)
      throw badJson(`A field of the request body is longer than ${MAX_FIELD_LENGTH} characters`);
    throw notJson(err);
  }
}

const str = (m: Map<string, string | number>, path: string): string => {
  const v = m.get(path);
  return typeof v === 'string' ? v : '';
};
const int = (m: Map<string, string | number>, path: string): number => {
  const v = m.get(path);
  return typeof v === 'number' ? v : 0;
};

function delayParams(m: Map<string, string | number>): DelayParams {
  return {
    delayId: str(m, 'delay_id'),
    delayTimeout: int(m, 'delay_timeout'),
    delayCsApiUrl: str(m, 'delay_cs_api_url'),
  };
}

/** Exactly one of `delay_id` and a positive `delay_timeout` is a validation error upstream. */
function checkDelayPairing(p: DelayParams): void {
  if ((p.delayId !== '') !== p.delayTimeout > 0) throw badJson(MESSAGES.missingDelay);
}

/**
 * Decodes and validates a `/get_token` body, in the reference's order: shape (400 `M_NOT_JSON`),
 * then room and slot, member, OpenID token, delay pairing (400 `M_BAD_JSON`, first failure wins).
 *
 * @throws {@link TokenError}
 */
export function parseTokenRequest(body: JsonValue): TokenRequest {
  return parseMemberRequest(body, {
    member: MESSAGES.missingMember,
    openId: MESSAGES.missingOpenId,
    delay: checkDelayPairing,
  });
}

/**
 * Decodes and validates a `/delegate_delayed_leave` body: the `/get_token` shape, with
 * `delay_id` and a positive `delay_timeout` required, and upstream's slightly different wording.
 *
 * @throws {@link TokenError}
 */
export function parseDelegateRequest(body: JsonValue): TokenRequest {
  return parseMemberRequest(body, {
    member: MESSAGES.missingMemberDelegate,
    openId: MESSAGES.missingOpenIdDelegate,
    delay: (p) => {
      if (p.delayId === '' || p.delayTimeout <= 0) throw badJson(MESSAGES.missingDelay);
    },
  });
}

function parseMemberRequest(
  body: JsonValue,
  checks: { member: string; openId: string; delay: (p: DelayParams) => void },
): TokenRequest {
  const m = decodeOrThrow(body, GET_TOKEN);
  const request: TokenRequest = {
    kind: 'get_token',
    roomId: str(m, 'room_id'),
    slotId: str(m, 'slot_id'),
    openIdToken: {
      accessToken: str(m, 'openid_token.access_token'),
      matrixServerName: str(m, 'openid_token.matrix_server_name'),
    },
    member: {
      id: str(m, 'member.id'),
      claimedUserId: str(m, 'member.claimed_user_id'),
      claimedDeviceId: str(m, 'member.claimed_device_id'),
    },
    ...delayParams(m),
  };
  if (request.roomId === '' || request.slotId === '') throw badJson(MESSAGES.missingRoomOrSlot);
  const { member, openIdToken } = request;
  if (member.id === '' || member.claimedUserId === '' || member.claimedDeviceId === '') {
    throw badJson(checks.member);
  }
  if (openIdToken.accessToken === '' || openIdToken.matrixServerName === '') {
    throw badJson(checks.openId);
  }
  checks.delay(request);
  return request;
}

/**
 * Decodes and validates a `/sfu/get` body. The legacy shape is tried first; a body that is not
 * legacy but is a valid `/get_token` body is handled as one (as upstream v0.5.0 did, and as
 * clients that switched shapes early rely on). Legacy order: room, OpenID token, delay pairing.
 *
 * @throws {@link TokenError}
 */
export function parseSfuGetRequest(body: JsonValue): LegacyTokenRequest | TokenRequest {
  let m: Map<string, string | number>;
  try {
    m = decodeOrThrow(body, LEGACY);
  } catch (legacyError) {
    try {
      return parseTokenRequest(body);
    } catch (err) {
      // Neither shape decodes: report the legacy failure, which is what the endpoint expects.
      if ((err as TokenError).errcode === 'M_NOT_JSON') throw legacyError;
      throw err;
    }
  }
  const request: LegacyTokenRequest = {
    kind: 'legacy',
    room: str(m, 'room'),
    openIdToken: {
      accessToken: str(m, 'openid_token.access_token'),
      matrixServerName: str(m, 'openid_token.matrix_server_name'),
    },
    deviceId: str(m, 'device_id'),
    ...delayParams(m),
  };
  if (request.room === '') throw badJson(MESSAGES.missingRoom);
  if (request.openIdToken.accessToken === '' || request.openIdToken.matrixServerName === '') {
    throw badJson(MESSAGES.missingOpenIdLegacy);
  }
  checkDelayPairing(request);
  return request;
}
