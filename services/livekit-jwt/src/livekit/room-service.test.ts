import { CreateRoomRequest } from '@livekit/protocol';
import { jwtVerify } from 'jose';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeTwirpError,
  encodeCreateRoomRequest,
  ROOM_SETTINGS,
  RoomServiceError,
  TwirpRoomService,
} from './room-service.ts';
import { TokenMinter } from '../tokens/token-minter.ts';

const credentials = { key: 'key1', secret: 'secret-secret-secret-secret-secret' };

describe('encodeCreateRoomRequest', () => {
  it('should encode name, empty timeout 300 and departure timeout 20 as protobuf', () => {
    const bytes = encodeCreateRoomRequest('abc');
    // field 1 (name) "abc", field 2 (empty_timeout) varint 300, field 10 (departure_timeout) 20;
    // max_participants 0 is the proto3 default and therefore absent.
    expect(Buffer.from(bytes).toString('hex')).toBe('0a03616263' + '10ac02' + '5014');
    const decoded = CreateRoomRequest.fromBinary(bytes);
    expect(decoded.name).toBe('abc');
    expect(decoded.emptyTimeout).toBe(300);
    expect(decoded.departureTimeout).toBe(20);
    expect(decoded.maxParticipants).toBe(0);
    expect(ROOM_SETTINGS).toEqual({ emptyTimeout: 300, departureTimeout: 20, maxParticipants: 0 });
  });
});

interface Recorded {
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('describeTwirpError', () => {
  it('should keep the Twirp code and message but never a token the SFU echoes', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJ2aWRlbyI6e319.c2lnbmF0dXJl';
    expect(
      describeTwirpError(401, JSON.stringify({ code: 'unauthenticated', msg: `bad ${jwt}` })),
    ).toBe('HTTP 401 unauthenticated: bad [redacted]');
    expect(describeTwirpError(502, `<html>Bearer ${jwt} refused</html>`)).toBe(
      'HTTP 502: <html>[redacted] refused</html>',
    );
    expect(describeTwirpError(500, '')).toBe('HTTP 500: ');
  });
});

async function fakeSfu(status: number) {
  const calls: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/protobuf' });
      res.end(
        status === 200
          ? Buffer.alloc(0)
          : JSON.stringify({ code: 'malformed', msg: `bad ${req.headers.authorization ?? ''}` }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { calls, port, close: () => new Promise((r) => server.close(r)) };
}

describe('TwirpRoomService', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  it('should POST protobuf CreateRoom with a roomCreate bearer token under the path prefix', async () => {
    const sfu = await fakeSfu(200);
    const rooms = new TwirpRoomService({
      apiUrl: `http://127.0.0.1:${sfu.port}/prefix/`,
      minter: new TokenMinter(credentials),
    });
    closers.push(sfu.close, () => rooms.close());
    await rooms.createRoom('room-name');
    await rooms.createRoom('room-name');
    expect(sfu.calls).toHaveLength(2);
    const call = sfu.calls[0]!;
    expect(call.url).toBe('/prefix/twirp/livekit.RoomService/CreateRoom');
    expect(call.headers['content-type']).toBe('application/protobuf');
    expect(Buffer.from(call.body)).toEqual(Buffer.from(encodeCreateRoomRequest('room-name')));
    const bearer = /^Bearer (.+)$/.exec(call.headers.authorization ?? '')?.[1] ?? '';
    const { payload } = await jwtVerify(bearer, new TextEncoder().encode(credentials.secret), {
      issuer: credentials.key,
    });
    expect(payload.video).toEqual({ roomCreate: true });
  });

  it('should reject when the SFU answers an error status', async () => {
    const sfu = await fakeSfu(400);
    const rooms = new TwirpRoomService({
      apiUrl: `http://127.0.0.1:${sfu.port}`,
      minter: new TokenMinter(credentials),
    });
    closers.push(sfu.close, () => rooms.close());
    await expect(rooms.createRoom('r')).rejects.toThrow(RoomServiceError);
    await expect(rooms.createRoom('r')).rejects.toThrow(
      /^CreateRoom r: HTTP 400 malformed: bad \[redacted\]$/,
    );
  });

  it('should reject when nothing listens', async () => {
    const rooms = new TwirpRoomService({
      apiUrl: 'http://127.0.0.1:9',
      minter: new TokenMinter(credentials),
      timeoutMs: 2000,
    });
    closers.push(() => rooms.close());
    await expect(rooms.createRoom('r')).rejects.toThrow(RoomServiceError);
  });
});
