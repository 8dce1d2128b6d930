/** STUN magic cookie (RFC 5389 §6). */
export const MAGIC_COOKIE = 0x2112a442;

/** STUN/TURN methods used here (RFC 5389, RFC 5766). */
export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;

/** The four message classes. */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

/** Attribute types used here (RFC 5389 §18.2, RFC 5766 §14). */
export const StunAttr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;

/** An IP address and port, as found in the address attributes. */
export interface TransportAddress {
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
}

/** A value that does not decode; the message says which attribute. */
export class StunDecodeError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'StunDecodeError';
  }
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new StunDecodeError(`"${ip}" is not an IPv4 address`);
  }
  return Buffer.from(parts);
}

/** The 16 bytes of an IPv6 address, including `::` and a trailing dotted IPv4 part. */
export function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  let tail: Buffer = Buffer.alloc(0);
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    tail = ipv4Bytes(dotted[1]);
    text = `${text.slice(0, dotted.index)}:0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new StunDecodeError(`"${ip}" is not an IPv6 address`);
  const groups = (s: string | undefined): string[] =>
    s === undefined || s === '' ? [] : s.split(':');
  const head = groups(halves[0]);
  const rest = groups(halves[1]);
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) {
    throw new StunDecodeError(`"${ip}" is not an IPv6 address`);
  }
  const all = [...head, ...(halves.length === 2 ? Array<string>(fill).fill('0') : []), ...rest];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new StunDecodeError(`"${ip}" is not an IPv6 address`);
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  if (tail.length === 4) tail.copy(out, 12);
  return out;
}

function formatIpv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The WHATWG URL parser writes the RFC 5952 canonical form; no need for a second implementation.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Reads a plain (MAPPED-ADDRESS style) address attribute value. */
export function decodeAddress(value: Buffer): TransportAddress {
  const family = value[1];
  if (value.length < 8) throw new StunDecodeError('address attribute too short');
  const port = value.readUInt16BE(2);
  if (family === 0x01)
    return { family: 'IPv4', address: [...value.subarray(4, 8)].join('.'), port };
  if (family === 0x02 && value.length >= 20) {
    return { family: 'IPv6', address: formatIpv6(value.subarray(4, 20)), port };
  }
  throw new StunDecodeError(`unknown address family ${family}`);
}

function xorWith(bytes: Buffer, transactionId: Buffer): Buffer {
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  return Buffer.from(bytes.map((b, i) => b ^ (mask[i] ?? 0)));
}

/** Encodes an XOR-MAPPED/RELAYED/PEER-ADDRESS value (RFC 5389 §15.2). */
export function encodeXorAddress(addr: TransportAddress, transactionId: Buffer): Buffer {
  const ip = addr.family === 'IPv4' ? ipv4Bytes(addr.address) : ipv6Bytes(addr.address);
  const out = Buffer.alloc(4 + ip.length);
  out[1] = addr.family === 'IPv4' ? 0x01 : 0x02;
  out.writeUInt16BE(addr.port ^ (MAGIC_COOKIE >>> 16), 2);
  xorWith(ip, transactionId).copy(out, 4);
  return out;
}

/** Decodes an XOR-…-ADDRESS value. */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  const plain = Buffer.from(value);
  if (plain.length < 8) throw new StunDecodeError('XOR address attribute too short');
  plain.writeUInt16BE(value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16), 2);
  xorWith(value.subarray(4), transactionId).copy(plain, 4);
  return decodeAddress(plain);
}

/** Encodes ERROR-CODE (RFC 5389 §15.6). */
export function encodeErrorCode(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + text.length);
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  text.copy(out, 4);
  return out;
}

/** Decodes ERROR-CODE: class × 100 + number, and the reason phrase. */
export function decodeErrorCode(value: Buffer): { code: number; reason: string } {
  if (value.length < 4) throw new StunDecodeError('ERROR-CODE too short');
  const code = ((value[2] ?? 0) & 0x07) * 100 + (value[3] ?? 0);
  return { code, reason: value.subarray(4).toString('utf8') };
}

/** A 32-bit unsigned big-endian value (LIFETIME, REQUESTED-TRANSPORT). */
export function uint32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
}
