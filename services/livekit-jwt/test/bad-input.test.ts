import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CORS,
  type FakeRooms,
  type FakeVerifier,
  getTokenBody,
  legacyBody,
  makeApp,
} from './helpers.ts';

const valid = JSON.stringify(getTokenBody());
const withField = (field: string, value: string) =>
  valid.replace(/"room_id":"[^"]*"/, `"room_id":"!r:x","${field}":${value}`);
const replaceRoom = (value: string) => valid.replace(/"room_id":"[^"]*"/, `"room_id":${value}`);
const openid = (inner: string) =>
  valid.replace(/"openid_token":\{[^}]*\}/, `"openid_token":${inner}`);
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

interface Case {
  readonly name: string;
  readonly payload: string | Buffer;
  readonly contentType?: string;
  readonly url?: string;
}

const CASES: Case[] = [
  { name: 'empty body without a content type', payload: '', contentType: '' },
  { name: 'empty JSON body', payload: '' },
  { name: 'whitespace only', payload: ' \r\n\t ' },
  { name: 'null body', payload: 'null' },
  { name: 'array body', payload: '[]' },
  { name: 'string body', payload: '"x"' },
  { name: 'number body', payload: '42' },
  { name: 'boolean body', payload: 'true' },
  { name: 'room_id as a number', payload: replaceRoom('1') },
  { name: 'room_id as an array', payload: replaceRoom('["!r:x"]') },
  { name: 'room_id as an object', payload: replaceRoom('{"id":"!r:x"}') },
  { name: 'room_id as a boolean', payload: replaceRoom('false') },
  { name: 'openid_token as a string', payload: openid('"token"') },
  { name: 'openid_token as an array', payload: openid('[]') },
  {
    name: 'access_token as a number',
    payload: openid('{"access_token":12345,"matrix_server_name":"example.com"}'),
  },
  {
    name: 'matrix_server_name null',
    payload: openid('{"access_token":"valid-token","matrix_server_name":null}'),
  },
  { name: 'member as a number', payload: valid.replace(/"member":\{[^}]*\}/, '"member":7') },
  {
    name: 'expires_in as a string',
    payload: openid(
      '{"access_token":"valid-token","matrix_server_name":"example.com","expires_in":"3600"}',
    ),
  },
  {
    name: 'expires_in as a fraction',
    payload: openid(
      '{"access_token":"valid-token","matrix_server_name":"example.com","expires_in":3600.5}',
    ),
  },
  { name: 'delay_timeout beyond 64 bits', payload: withField('delay_timeout', '1e400') },
  { name: 'delay_timeout as a string', payload: withField('delay_timeout', '"7200000"') },
  { name: 'a 100 kB room_id', payload: replaceRoom(JSON.stringify('!'.repeat(100_000))) },
  {
    name: 'a 900 kB access token',
    payload: openid(`{"access_token":"${'a'.repeat(900_000)}","matrix_server_name":"example.com"}`),
  },
  { name: 'a body over 1 MiB', payload: withField('pad', JSON.stringify('x'.repeat(1_100_000))) },
  { name: 'deeply nested arrays', payload: '['.repeat(100_000) },
  {
    name: 'deep nesting inside a known field',
    payload: valid.replace(
      /"member":\{[^}]*\}/,
      `"member":${'{"id":'.repeat(50)}"x"${'}'.repeat(50)}`,
    ),
  },
  {
    name: 'invalid UTF-8 in a string',
    payload: bytes(valid.slice(0, 13), [0xc3, 0x28], valid.slice(13)),
  },
  {
    name: 'Latin-1 bytes declared as charset=latin1',
    payload: bytes(valid.slice(0, 13), [0xe9], valid.slice(13)),
    contentType: 'application/json; charset=latin1',
  },
  {
    name: 'UTF-16 body',
    payload: Buffer.from(valid, 'utf16le'),
    contentType: 'application/json; charset=utf-16',
  },
  { name: 'a byte-order mark', payload: bytes([0xef, 0xbb, 0xbf], valid) },
  { name: 'a lone surrogate escape', payload: replaceRoom('"\\ud800"') },
  { name: 'a raw control character in a string', payload: replaceRoom('"a\u0007b"') },
  { name: 'a NUL byte between tokens', payload: `${valid.slice(0, 1)}\u0000${valid.slice(1)}` },
  { name: 'duplicate top-level keys', payload: withField('room_id', '"!other:x"') },
  {
    name: 'duplicate access_token keys (token smuggling)',
    payload: openid(
      '{"access_token":"valid-token","access_token":"other","matrix_server_name":"example.com"}',
    ),
  },
  { name: 'trailing garbage', payload: `${valid}garbage` },
  { name: 'two JSON documents', payload: `${valid}${valid}` },
  { name: 'a comment', payload: `${valid} // hi` },
  { name: 'single quotes', payload: valid.replaceAll('"', "'") },
  { name: 'a trailing comma', payload: valid.replace(/}$/, ',}') },
  { name: 'a __proto__ field', payload: withField('__proto__', '{"room_id":"!x:y"}') },
  { name: 'a constructor field', payload: withField('constructor', '{}') },
  { name: 'upper-case keys', payload: valid.replace('"room_id"', '"ROOM_ID"') },
  {
    name: 'a form-encoded body',
    payload: 'room_id=%21r%3Ax&slot_id=s',
    contentType: 'application/x-www-form-urlencoded',
  },
  {
    name: 'a multipart body',
    payload: '--b\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n!r:x\r\n--b--\r\n',
    contentType: 'multipart/form-data; boundary=b',
  },
  { name: 'plain text', payload: 'hello', contentType: 'text/plain' },
  { name: 'XML', payload: '<get_token room_id="!r:x"/>', contentType: 'application/xml' },
  {
    name: 'a legacy body with a wrong device_id type',
    payload: JSON.stringify(legacyBody('example.com', { device_id: 5 })),
    url: '/sfu/get',
  },
  {
    name: 'a legacy body with a huge room',
    payload: JSON.stringify(legacyBody('example.com', { room: 'r'.repeat(5000) })),
    url: '/sfu/get',
  },
  {
    name: 'a legacy body mixed with member',
    payload: JSON.stringify(legacyBody('example.com', { member: {} })),
    url: '/sfu/get',
  },
];

describe('livekit-jwt bad input', () => {
  let app: FastifyInstance;
  let verifier: FakeVerifier;
  let rooms: FakeRooms;
  beforeAll(async () => {
    const made = await makeApp();
    app = made.app;
    verifier = made.verifier;
    rooms = made.rooms;
  });
  afterAll(async () => {
    await app.close();
  });

  it('should have a table of at least 30 malformed inputs', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('should answer $name with a 4xx Matrix error and no outbound call', async (c) => {
    const headers: Record<string, string> = {};
    if (c.contentType !== '') headers['content-type'] = c.contentType ?? 'application/json';
    const res = await app.inject({
      method: 'POST',
      url: c.url ?? '/get_token',
      payload: c.payload,
      headers,
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    const body = res.json<Record<string, unknown>>();
    expect(Object.keys(body)).toEqual(['errcode', 'error']);
    expect(body.errcode).toMatch(/^M_(NOT_JSON|BAD_JSON|TOO_LARGE)$/);
    expect(res.headers).toMatchObject(CORS);
    expect(verifier.calls).toHaveLength(0);
    expect(rooms.created).toHaveLength(0);
  });

  it('should still serve a valid request after all of them', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: valid,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(verifier.calls).toHaveLength(1);
  });
});
