import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { freeDualPort, freePort } from '@rtc-sidecars/test-harness';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeErrorCode,
  encodeXorAddress,
  StunAttr,
  StunMethod,
  uint32,
} from '../src/stun-attributes.ts';
import {
  decodeStunMessage,
  encodeStunMessage,
  longTermKey,
  type StunMessage,
} from '../src/stun-message.ts';
import { splitStreamFrames } from '../src/stun-transport.ts';
import { TurnClient } from '../src/turn-client.ts';
import { TurnError } from '../src/turn-error.ts';

// Faults a real coturn cannot be made to show on demand: lost datagrams, silence, forged
// responses. The fake speaks just enough STUN through this package's own codec.
type Handler = (request: StunMessage, count: number) => Buffer | Buffer[] | undefined;

const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(
    sockets.splice(0).map(
      (s) =>
        new Promise((r) =>
          s.close(() => {
            r(undefined);
          }),
        ),
    ),
  );
});

async function fakeServer(handler: Handler): Promise<{ port: number; received: StunMessage[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: StunMessage[] = [];
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const request = decodeStunMessage(msg);
    received.push(request);
    const answer = handler(request, received.length) ?? [];
    for (const datagram of Array.isArray(answer) ? answer : [answer]) {
      socket.send(datagram, from.port, from.address);
    }
  });
  return { port: socket.address().port, received };
}

function bindingSuccess(request: StunMessage): Buffer {
  const mapped = { family: 'IPv4', address: '192.0.2.1', port: 32853 } as const;
  return encodeStunMessage({
    method: StunMethod.Binding,
    cls: 'success',
    transactionId: request.transactionId,
    attributes: [
      { type: StunAttr.XorMappedAddress, value: encodeXorAddress(mapped, request.transactionId) },
    ],
  });
}

function challenge(request: StunMessage): Buffer {
  return encodeStunMessage({
    method: request.method,
    cls: 'error',
    transactionId: request.transactionId,
    attributes: [
      { type: StunAttr.ErrorCode, value: encodeErrorCode(401, 'Unauthorized') },
      { type: StunAttr.Realm, value: Buffer.from('fake.test') },
      { type: StunAttr.Nonce, value: Buffer.from('n0nce') },
    ],
  });
}

describe('TurnClient over UDP with a lossy or lying server', () => {
  it('should retransmit the same request until an answer comes', async () => {
    const server = await fakeServer((req, n) => (n < 3 ? undefined : bindingSuccess(req)));
    const client = await TurnClient.connect({ uri: `stun:127.0.0.1:${server.port}`, rtoMs: 20 });
    expect(await client.binding()).toEqual({ family: 'IPv4', address: '192.0.2.1', port: 32853 });
    expect(server.received).toHaveLength(3);
    const ids = new Set(server.received.map((m) => m.transactionId.toString('hex')));
    expect(ids.size).toBe(1);
    await client.close();
  });

  it('should give up with a timeout error after a bounded number of transmissions', async () => {
    const server = await fakeServer(() => undefined);
    const client = await TurnClient.connect({
      uri: `stun:127.0.0.1:${server.port}`,
      rtoMs: 20,
      timeoutMs: 700,
    });
    const err = await client.binding().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TurnError);
    expect(err).toMatchObject({ kind: 'timeout', method: 'Binding' });
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(server.received.length).toBeLessThanOrEqual(7);
    await client.close();
  });

  it('should discard a success response whose MESSAGE-INTEGRITY does not check', async () => {
    const server = await fakeServer((req) => {
      if (req.attributes.every((a) => a.type !== StunAttr.MessageIntegrity)) return challenge(req);
      const relayed = { family: 'IPv4', address: '192.0.2.9', port: 50000 } as const;
      return encodeStunMessage(
        {
          method: req.method,
          cls: 'success',
          transactionId: req.transactionId,
          attributes: [
            {
              type: StunAttr.XorRelayedAddress,
              value: encodeXorAddress(relayed, req.transactionId),
            },
            { type: StunAttr.Lifetime, value: uint32(600) },
          ],
        },
        { integrityKey: longTermKey('someone', 'fake.test', 'else') },
      );
    });
    const client = await TurnClient.connect({
      uri: `turn:127.0.0.1:${server.port}`,
      username: 'u',
      password: 'p',
      rtoMs: 20,
      timeoutMs: 500,
    });
    await expect(client.allocate()).rejects.toMatchObject({ kind: 'timeout', method: 'Allocate' });
    await client.close();
  });

  it('should carry the STUN code and reason of an error response', async () => {
    const server = await fakeServer((req) =>
      req.attributes.some((a) => a.type === StunAttr.MessageIntegrity)
        ? encodeStunMessage({
            method: req.method,
            cls: 'error',
            transactionId: req.transactionId,
            attributes: [{ type: StunAttr.ErrorCode, value: encodeErrorCode(441, '') }],
          })
        : challenge(req),
    );
    const client = await TurnClient.connect({
      uri: `turn:127.0.0.1:${server.port}`,
      username: 'u',
      password: 'p',
    });
    const err = await client.allocate().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'error-response', code: 441, reason: 'Wrong Credentials' });
    expect((err as Error).message).toBe('Allocate failed: 441 Wrong Credentials');
    expect(client.realm).toBe('fake.test');
    await client.close();
  });

  it('should deliver Data indications and ignore malformed ones', async () => {
    const peer = { family: 'IPv4', address: '192.0.2.5', port: 4000 } as const;
    const indication = (peerValue: Buffer, tid: Buffer): Buffer =>
      encodeStunMessage({
        method: StunMethod.Data,
        cls: 'indication',
        transactionId: tid,
        attributes: [
          { type: StunAttr.XorPeerAddress, value: peerValue },
          { type: StunAttr.Data, value: Buffer.from('pong') },
        ],
      });
    const tid = Buffer.alloc(12, 9);
    const server = await fakeServer((req) => [
      indication(Buffer.from([0, 1, 0]), tid), // truncated XOR-PEER-ADDRESS
      indication(encodeXorAddress(peer, tid), tid),
      bindingSuccess(req),
    ]);
    const client = await TurnClient.connect({ uri: `stun:127.0.0.1:${server.port}` });
    const got: { data: string; from: unknown }[] = [];
    client.onData((data, from) => got.push({ data: data.toString(), from }));
    await client.binding();
    expect(got).toEqual([{ data: 'pong', from: peer }]);
    await client.close();
  });

  it('should say so when the server wants credentials and none were given', async () => {
    const server = await fakeServer(challenge);
    const client = await TurnClient.connect({ uri: `turn:127.0.0.1:${server.port}` });
    await expect(client.allocate()).rejects.toMatchObject({ kind: 'usage', code: 401 });
    await client.close();
  });
});

describe('TurnClient connection and usage errors', () => {
  it('should report a UDP port with nothing behind it as a network error', async () => {
    // Linux never rate-limits ICMP port-unreachable on loopback, so the refusal always arrives.
    const port = await freeDualPort();
    const client = await TurnClient.connect({ uri: `turn:127.0.0.1:${port}`, timeoutMs: 3000 });
    const err = await client.binding().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network' });
    expect((err as Error).message).toBe(`nothing listens on 127.0.0.1:${port}/udp (ECONNREFUSED)`);
    await client.close();
  });

  it('should report a refused TCP connection as a network error', async () => {
    const port = await freePort();
    await expect(
      TurnClient.connect({ uri: `turn:127.0.0.1:${port}?transport=tcp` }),
    ).rejects.toMatchObject({
      kind: 'network',
    });
  });

  it.each([
    ['turn://127.0.0.1', /without "\/\/"/],
    ['turns:127.0.0.1?transport=udp', /DTLS/],
  ])('should refuse the URI %s as a usage error', async (uri, message) => {
    const err = await TurnClient.connect({ uri }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'usage' });
    expect((err as Error).message).toMatch(message);
  });
});

describe('splitStreamFrames', () => {
  const stun = encodeStunMessage({
    method: StunMethod.Binding,
    cls: 'request',
    transactionId: Buffer.alloc(12, 1),
    attributes: [],
  });
  const channelData = Buffer.from([0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0]);

  it('should split messages and padded ChannelData and keep a partial frame for later', () => {
    const stream = Buffer.concat([stun, channelData, stun.subarray(0, 10)]);
    const { frames, rest } = splitStreamFrames(stream);
    expect(frames).toEqual([stun, channelData]);
    expect(rest).toEqual(stun.subarray(0, 10));
    expect(splitStreamFrames(Buffer.concat([rest, stun.subarray(10)])).frames).toEqual([stun]);
  });

  it('should refuse bytes that are neither STUN nor ChannelData', () => {
    expect(() => splitStreamFrames(Buffer.from([0xff, 0, 0, 0]))).toThrow(/not STUN/);
  });
});
