import { describe, expect, it } from 'vitest';
import {
  decodeAddress,
  decodeErrorCode,
  decodeXorAddress,
  encodeErrorCode,
  encodeXorAddress,
  ipv6Bytes,
  StunAttr,
  StunMethod,
} from './stun-attributes.ts';
import {
  checkFingerprint,
  checkMessageIntegrity,
  decodeStunMessage,
  encodeStunMessage,
  getAttribute,
  longTermKey,
  messageType,
} from './stun-message.ts';

/** Hex as RFC 5769 prints it (spaces, line breaks) to bytes. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 §2.1 Sample Request (short-term password below), with FINGERPRINT.
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// RFC 5769 §2.2 Sample IPv4 Response: XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// RFC 5769 §2.3 Sample IPv6 Response: [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
// RFC 5769 §2.4 Sample Request with Long-Term Authentication (no FINGERPRINT).
const LONG_TERM_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);
const SHORT_TERM_KEY = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');

describe('decodeStunMessage (RFC 5769 vectors)', () => {
  it('should decode the sample request and check its integrity and fingerprint', () => {
    const m = decodeStunMessage(SAMPLE_REQUEST);
    expect(m.method).toBe(StunMethod.Binding);
    expect(m.cls).toBe('request');
    expect(m.transactionId.toString('hex')).toBe('b7e7a701bc34d686fa87dfae');
    expect(getAttribute(m, StunAttr.Username)?.toString()).toBe('evtj:h6vY');
    expect(getAttribute(m, StunAttr.Software)?.toString()).toBe('STUN test client');
    expect(checkFingerprint(SAMPLE_REQUEST)).toBe(true);
    expect(checkMessageIntegrity(SAMPLE_REQUEST, SHORT_TERM_KEY)).toBe(true);
    expect(checkMessageIntegrity(SAMPLE_REQUEST, Buffer.from('wrong'))).toBe(false);
  });

  it.each([
    ['IPv4', IPV4_RESPONSE, { family: 'IPv4', address: '192.0.2.1', port: 32853 }],
    [
      'IPv6',
      IPV6_RESPONSE,
      { family: 'IPv6', address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 },
    ],
  ] as const)('should decode the %s response and its XOR-MAPPED-ADDRESS', (_f, raw, mapped) => {
    const m = decodeStunMessage(raw);
    expect(m.cls).toBe('success');
    expect(checkFingerprint(raw)).toBe(true);
    expect(checkMessageIntegrity(raw, SHORT_TERM_KEY)).toBe(true);
    const xor = getAttribute(m, StunAttr.XorMappedAddress);
    expect(xor && decodeXorAddress(xor, m.transactionId)).toEqual(mapped);
    expect(xor && encodeXorAddress(mapped, m.transactionId)).toEqual(xor);
  });

  it('should check the long-term request under MD5(username:realm:password)', () => {
    const m = decodeStunMessage(LONG_TERM_REQUEST);
    const username = getAttribute(m, StunAttr.Username)?.toString() ?? '';
    expect(username).toBe('\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9');
    expect(getAttribute(m, StunAttr.Realm)?.toString()).toBe('example.org');
    expect(checkFingerprint(LONG_TERM_REQUEST)).toBeUndefined();
    const key = longTermKey(username, 'example.org', 'TheMatrIX');
    expect(checkMessageIntegrity(LONG_TERM_REQUEST, key)).toBe(true);
    expect(
      checkMessageIntegrity(LONG_TERM_REQUEST, longTermKey(username, 'example.org', 'x')),
    ).toBe(false);
  });

  it('should notice a changed byte and refuse junk', () => {
    const changed = Buffer.from(SAMPLE_REQUEST);
    changed[30] = (changed[30] ?? 0) ^ 1;
    expect(checkFingerprint(changed)).toBe(false);
    expect(() => decodeStunMessage(Buffer.alloc(19))).toThrow(/not a STUN message/);
    const long = Buffer.from(SAMPLE_REQUEST);
    long[3] = 0x5c;
    expect(() => decodeStunMessage(long)).toThrow(/bad message length/);
    const overrun = Buffer.from(SAMPLE_REQUEST);
    overrun[23] = 0x40;
    expect(() => decodeStunMessage(overrun)).toThrow(/runs past the message/);
  });
});

describe('encodeStunMessage', () => {
  it('should rebuild the RFC 5769 long-term request byte for byte', () => {
    const m = decodeStunMessage(LONG_TERM_REQUEST);
    const username = getAttribute(m, StunAttr.Username)?.toString() ?? '';
    const rebuilt = encodeStunMessage(
      {
        method: StunMethod.Binding,
        cls: 'request',
        transactionId: m.transactionId,
        attributes: m.attributes.filter((a) => a.type !== StunAttr.MessageIntegrity),
      },
      { integrityKey: longTermKey(username, 'example.org', 'TheMatrIX'), fingerprint: false },
    );
    expect(rebuilt.toString('hex')).toBe(LONG_TERM_REQUEST.toString('hex'));
  });

  it('should lay out an Allocate request with integrity and fingerprint', () => {
    const tid = Buffer.from('000102030405060708090a0b', 'hex');
    const raw = encodeStunMessage(
      {
        method: StunMethod.Allocate,
        cls: 'request',
        transactionId: tid,
        attributes: [{ type: StunAttr.RequestedTransport, value: Buffer.from([17, 0, 0, 0]) }],
      },
      { integrityKey: longTermKey('1700000000:@a:b', 'turn.test', 'pw') },
    );
    // header: type 0x0003, length 8 + 24 + 8, cookie, transaction ID
    expect(raw.subarray(0, 20).toString('hex')).toBe(
      '0003002821 12a442000102030405060708090a0b'.replace(/ /g, ''),
    );
    expect(raw.subarray(20, 28).toString('hex')).toBe('0019000411000000');
    expect(raw.subarray(28, 32).toString('hex')).toBe('00080014');
    expect(raw.subarray(52, 56).toString('hex')).toBe('80280004');
    expect(raw.length).toBe(60);
    expect(checkMessageIntegrity(raw, longTermKey('1700000000:@a:b', 'turn.test', 'pw'))).toBe(
      true,
    );
    expect(checkFingerprint(raw)).toBe(true);
    expect(decodeStunMessage(raw).attributes.map((a) => a.type)).toEqual([0x0019, 0x0008, 0x8028]);
  });

  it('should pad attributes to four bytes and keep their true length', () => {
    const raw = encodeStunMessage(
      {
        method: StunMethod.Send,
        cls: 'indication',
        transactionId: Buffer.alloc(12, 7),
        attributes: [{ type: StunAttr.Data, value: Buffer.from('hello') }],
      },
      { fingerprint: false },
    );
    expect(raw.subarray(0, 4).toString('hex')).toBe('0016000c');
    expect(raw.subarray(20).toString('hex')).toBe('0013000568656c6c6f000000');
    expect(getAttribute(decodeStunMessage(raw), StunAttr.Data)?.toString()).toBe('hello');
  });

  it.each([
    [StunMethod.Binding, 'request', 0x0001],
    [StunMethod.Binding, 'success', 0x0101],
    [StunMethod.Allocate, 'error', 0x0113],
    [StunMethod.Refresh, 'request', 0x0004],
    [StunMethod.Send, 'indication', 0x0016],
    [StunMethod.Data, 'indication', 0x0017],
    [StunMethod.CreatePermission, 'success', 0x0108],
  ] as const)('should give method %i as a %s the type %i', (method, cls, type) => {
    expect(messageType(method, cls)).toBe(type);
  });
});

describe('address and error attributes', () => {
  it('should round-trip XOR addresses, IPv6 included', () => {
    const tid = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex');
    for (const a of [
      { family: 'IPv4', address: '127.0.0.1', port: 49152 },
      { family: 'IPv6', address: '2001:db8::1', port: 3478 },
      { family: 'IPv6', address: '::ffff:127.0.0.1', port: 1 },
    ] as const) {
      const back = decodeXorAddress(encodeXorAddress(a, tid), tid);
      expect(back.port).toBe(a.port);
      expect(ipv6OrV4(back.address)).toEqual(ipv6OrV4(a.address));
    }
  });

  it('should decode a plain MAPPED-ADDRESS and refuse short values', () => {
    expect(decodeAddress(hex('0001 0d96 c0000201'))).toEqual({
      family: 'IPv4',
      address: '192.0.2.1',
      port: 3478,
    });
    expect(() => decodeAddress(Buffer.from([0, 1, 0]))).toThrow(/too short/);
    expect(() => ipv6Bytes('1::2::3')).toThrow(/not an IPv6 address/);
  });

  it.each([401, 403, 438, 441, 486, 508])(
    'should carry error code %i through class and number',
    (code) => {
      const value = encodeErrorCode(code, 'reason');
      expect(value[2]).toBe(Math.floor(code / 100));
      expect(value[3]).toBe(code % 100);
      expect(decodeErrorCode(value)).toEqual({ code, reason: 'reason' });
    },
  );
});

function ipv6OrV4(address: string): string {
  return address.includes(':') ? ipv6Bytes(address).toString('hex') : address;
}
