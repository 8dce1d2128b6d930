import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './strict-json.ts';
import { MESSAGES, type TokenError } from './token-error.ts';
import { MAX_FIELD_LENGTH, parseSfuGetRequest, parseTokenRequest } from './token-request.ts';

const json = (value: unknown) => parseStrictJson(new TextEncoder().encode(JSON.stringify(value)));
const raw = (text: string) => parseStrictJson(new TextEncoder().encode(text));

const openid = {
  access_token: 'tok',
  token_type: 'Bearer',
  matrix_server_name: 'example.com',
  expires_in: 3600,
};
const valid = {
  room_id: '!room:example.com',
  slot_id: 'm.call#ROOM',
  openid_token: openid,
  member: { id: 'm1', claimed_user_id: '@a:example.com', claimed_device_id: 'DEV' },
};
const legacy = { room: '!room:example.com', openid_token: openid, device_id: 'DEV' };

function failure(fn: () => unknown): { errcode: string; message: string; status: number } {
  try {
    fn();
  } catch (err) {
    const e = err as TokenError;
    return { errcode: e.errcode, message: e.message, status: e.statusCode };
  }
  throw new Error('expected a failure');
}

describe('parseTokenRequest', () => {
  it('should decode a valid body', () => {
    expect(parseTokenRequest(json(valid))).toEqual({
      kind: 'get_token',
      roomId: '!room:example.com',
      slotId: 'm.call#ROOM',
      openIdToken: { accessToken: 'tok', matrixServerName: 'example.com' },
      member: { id: 'm1', claimedUserId: '@a:example.com', claimedDeviceId: 'DEV' },
      delayId: '',
      delayTimeout: 0,
      delayCsApiUrl: '',
    });
  });

  it('should accept delay parameters when paired and ignore delay_cs_api_url', () => {
    const r = parseTokenRequest(
      json({ ...valid, delay_id: 'syd_1', delay_timeout: 10000, delay_cs_api_url: 'https://x' }),
    );
    expect(r).toMatchObject({ delayId: 'syd_1', delayTimeout: 10000 });
  });

  it('should treat null fields as absent', () => {
    expect(
      parseTokenRequest(
        json({ ...valid, delay_id: null, openid_token: { ...openid, token_type: null } }),
      ).delayId,
    ).toBe('');
  });

  it.each([
    ['no room_id', { ...valid, room_id: undefined }, MESSAGES.missingRoomOrSlot],
    ['empty slot_id', { ...valid, slot_id: '' }, MESSAGES.missingRoomOrSlot],
    ['no member', { ...valid, member: undefined }, MESSAGES.missingMember],
    ['empty member.id', { ...valid, member: { ...valid.member, id: '' } }, MESSAGES.missingMember],
    ['null member', { ...valid, member: null }, MESSAGES.missingMember],
    [
      'no access_token',
      { ...valid, openid_token: { matrix_server_name: 'x' } },
      MESSAGES.missingOpenId,
    ],
    ['no server name', { ...valid, openid_token: { access_token: 'x' } }, MESSAGES.missingOpenId],
    ['delay_id alone', { ...valid, delay_id: 'd' }, MESSAGES.missingDelay],
    ['delay_timeout alone', { ...valid, delay_timeout: 5 }, MESSAGES.missingDelay],
    [
      'delay_id with zero timeout',
      { ...valid, delay_id: 'd', delay_timeout: 0 },
      MESSAGES.missingDelay,
    ],
    ['everything missing', {}, MESSAGES.missingRoomOrSlot],
    ['missing member and openid', { room_id: 'r', slot_id: 's' }, MESSAGES.missingMember],
  ])('should answer M_BAD_JSON for %s', (_name, body, message) => {
    expect(failure(() => parseTokenRequest(json(body)))).toEqual({
      errcode: 'M_BAD_JSON',
      message,
      status: 400,
    });
  });

  it('should accept a negative delay_timeout without delay_id, as upstream', () => {
    expect(parseTokenRequest(json({ ...valid, delay_timeout: -5 })).delayTimeout).toBe(-5);
  });

  it('should validate a null body as an empty one', () => {
    expect(failure(() => parseTokenRequest(raw('null'))).message).toBe(MESSAGES.missingRoomOrSlot);
  });

  it.each([
    ['an unknown top-level field', { ...valid, extra: 1 }],
    ['an unknown nested field', { ...valid, member: { ...valid.member, x: 'y' } }],
    ['an unknown openid field', { ...valid, openid_token: { ...openid, x: 'y' } }],
    ['an upper-case key', { ...valid, ROOM_ID: 'r' }],
    ['a number for a string', { ...valid, room_id: 5 }],
    ['a string delay_timeout', { ...valid, delay_id: 'd', delay_timeout: '7200000' }],
    ['a fractional delay_timeout', { ...valid, delay_id: 'd', delay_timeout: 3600.5 }],
    ['a string expires_in', { ...valid, openid_token: { ...openid, expires_in: '3600' } }],
    ['an array body', [valid]],
    ['a string body', 'x'],
    ['member as a string', { ...valid, member: 'm' }],
  ])('should answer M_NOT_JSON for %s', (_name, body) => {
    expect(failure(() => parseTokenRequest(json(body)))).toEqual({
      errcode: 'M_NOT_JSON',
      message: 'Error reading request',
      status: 400,
    });
  });

  it('should refuse integers written with exponents or beyond 64 bits', () => {
    for (const t of ['1e3', '3600.0', '9223372036854775808']) {
      const text = JSON.stringify(valid).replace('"expires_in":3600', `"expires_in":${t}`);
      expect(failure(() => parseTokenRequest(raw(text))).errcode).toBe('M_NOT_JSON');
    }
    const max = JSON.stringify(valid).replace(
      '"expires_in":3600',
      '"expires_in":9223372036854775807',
    );
    expect(parseTokenRequest(raw(max)).kind).toBe('get_token');
  });

  it('should refuse over-long fields with M_BAD_JSON', () => {
    const body = { ...valid, room_id: 'r'.repeat(MAX_FIELD_LENGTH + 1) };
    expect(failure(() => parseTokenRequest(json(body))).errcode).toBe('M_BAD_JSON');
    expect(parseTokenRequest(json({ ...valid, room_id: 'r'.repeat(MAX_FIELD_LENGTH) })).kind).toBe(
      'get_token',
    );
  });
});

describe('parseSfuGetRequest', () => {
  it('should decode a legacy body', () => {
    expect(parseSfuGetRequest(json(legacy))).toEqual({
      kind: 'legacy',
      room: '!room:example.com',
      openIdToken: { accessToken: 'tok', matrixServerName: 'example.com' },
      deviceId: 'DEV',
      delayId: '',
      delayTimeout: 0,
      delayCsApiUrl: '',
    });
  });

  it('should accept a legacy body without device_id and with delay parameters', () => {
    const noDevice: Partial<typeof legacy> = { ...legacy };
    delete noDevice.device_id;
    expect(parseSfuGetRequest(json(noDevice))).toMatchObject({ kind: 'legacy', deviceId: '' });
    expect(parseSfuGetRequest(json({ ...legacy, delay_id: 'd', delay_timeout: 1 }))).toMatchObject({
      delayId: 'd',
    });
  });

  it('should accept the /get_token shape', () => {
    expect(parseSfuGetRequest(json(valid)).kind).toBe('get_token');
  });

  it('should report /get_token validation failures for a /get_token-shaped body', () => {
    expect(failure(() => parseSfuGetRequest(json({ ...valid, slot_id: '' }))).message).toBe(
      MESSAGES.missingRoomOrSlot,
    );
  });

  it.each([
    ['{}', {}, MESSAGES.missingRoom],
    ['an empty room', { room: '' }, MESSAGES.missingRoom],
    [
      'no access token',
      { room: 'r', openid_token: { matrix_server_name: 'x' } },
      MESSAGES.missingOpenIdLegacy,
    ],
    [
      'no server name',
      { room: 'r', openid_token: { access_token: 'x' } },
      MESSAGES.missingOpenIdLegacy,
    ],
    ['a lone delay_timeout', { ...legacy, delay_timeout: 1000 }, MESSAGES.missingDelay],
  ])('should answer M_BAD_JSON for %s', (_name, body, message) => {
    expect(failure(() => parseSfuGetRequest(json(body)))).toEqual({
      errcode: 'M_BAD_JSON',
      message,
      status: 400,
    });
  });

  it('should answer M_NOT_JSON when neither shape decodes', () => {
    expect(failure(() => parseSfuGetRequest(json({ ...legacy, extra_field: 1 }))).errcode).toBe(
      'M_NOT_JSON',
    );
    expect(
      failure(() => parseSfuGetRequest(json({ ...legacy, member: valid.member }))).errcode,
    ).toBe('M_NOT_JSON');
    expect(failure(() => parseSfuGetRequest(json([]))).errcode).toBe('M_NOT_JSON');
  });
});
