import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MAGIC_COOKIE, StunAttr, type StunClass, StunDecodeError } from './stun-attributes.ts';

/** One attribute: its type and raw value (without padding). */
export interface StunAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/** A STUN message, decoded or about to be encoded. */
export interface StunMessage {
  readonly method: number;
  readonly cls: StunClass;
  /** 12 bytes. */
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
}

/** Options of {@link encodeStunMessage}. */
export interface EncodeOptions {
  /** Appends MESSAGE-INTEGRITY (HMAC-SHA1) with this key. */
  readonly integrityKey?: Buffer;
  /** Appends FINGERPRINT. Default true. */
  readonly fingerprint?: boolean;
}

const HEADER = 20;
const FINGERPRINT_XOR = 0x5354554e;
const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

/** A new random 96-bit transaction ID. */
export function newTransactionId(): Buffer {
  return randomBytes(12);
}

/** RFC 5389 §15.4 long-term key: MD5(username ":" realm ":" password). SASLprep is not applied. */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/** The 16-bit message type: method bits interleaved with the two class bits (RFC 5389 §6). */
export function messageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | CLASS_BITS[cls];
}

function splitType(type: number): { method: number; cls: StunClass } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const bits = type & 0x0110;
  const cls = (Object.keys(CLASS_BITS) as StunClass[]).find((c) => CLASS_BITS[c] === bits);
  return { method, cls: cls ?? 'request' };
}

function attributeBytes(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

function header(message: StunMessage, bodyLength: number): Buffer {
  const out = Buffer.alloc(HEADER);
  out.writeUInt16BE(messageType(message.method, message.cls), 0);
  out.writeUInt16BE(bodyLength, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  message.transactionId.copy(out, 8);
  return out;
}

function fingerprintOf(head: Buffer, body: Buffer): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt32BE((crc32(Buffer.concat([head, body])) ^ FINGERPRINT_XOR) >>> 0);
  return value;
}

/**
 * Encodes a message. MESSAGE-INTEGRITY is computed with the length field already counting its
 * own 24 bytes but not FINGERPRINT; FINGERPRINT covers everything before it with the final
 * length (RFC 5389 §15.4, §15.5) — the two details a hand-written codec most often gets wrong.
 */
export function encodeStunMessage(message: StunMessage, options: EncodeOptions = {}): Buffer {
  if (message.transactionId.length !== 12) throw new RangeError('transaction ID must be 12 bytes');
  let body = Buffer.concat(message.attributes.map((a) => attributeBytes(a.type, a.value)));
  if (options.integrityKey !== undefined) {
    const mac = createHmac('sha1', options.integrityKey)
      .update(Buffer.concat([header(message, body.length + 24), body]))
      .digest();
    body = Buffer.concat([body, attributeBytes(StunAttr.MessageIntegrity, mac)]);
  }
  if (options.fingerprint ?? true) {
    const fp = fingerprintOf(header(message, body.length + 8), body);
    body = Buffer.concat([body, attributeBytes(StunAttr.Fingerprint, fp)]);
  }
  return Buffer.concat([header(message, body.length), body]);
}

/** True when `buf` starts like a STUN message (top bits zero, magic cookie), not ChannelData. */
export function looksLikeStun(buf: Buffer): boolean {
  return (
    buf.length >= HEADER && ((buf[0] ?? 0xff) & 0xc0) === 0 && buf.readUInt32BE(4) === MAGIC_COOKIE
  );
}

/** Decodes one complete message. @throws {@link StunDecodeError} on anything malformed. */
export function decodeStunMessage(buf: Buffer): StunMessage {
  if (!looksLikeStun(buf)) throw new StunDecodeError('not a STUN message');
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length > buf.length) {
    throw new StunDecodeError(`bad message length ${length} for ${buf.length} bytes`);
  }
  const attributes: StunAttribute[] = [];
  for (let o = HEADER; o < HEADER + length;) {
    if (o + 4 > HEADER + length) throw new StunDecodeError('truncated attribute header');
    const type = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 2);
    if (o + 4 + len > HEADER + length) {
      throw new StunDecodeError(`attribute 0x${type.toString(16)} runs past the message`);
    }
    attributes.push({ type, value: Buffer.from(buf.subarray(o + 4, o + 4 + len)) });
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
  return {
    ...splitType(buf.readUInt16BE(0)),
    transactionId: Buffer.from(buf.subarray(8, 20)),
    attributes,
  };
}

/** The first attribute of `type` (later duplicates are ignored, RFC 5389 §15). */
export function getAttribute(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

function offsetOf(raw: Buffer, wanted: number): number | undefined {
  const end = HEADER + raw.readUInt16BE(2);
  for (let o = HEADER; o + 4 <= end;) {
    const len = raw.readUInt16BE(o + 2);
    if (raw.readUInt16BE(o) === wanted) return o;
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
  return undefined;
}

/** Checks MESSAGE-INTEGRITY of an encoded message; `undefined` when it carries none. */
export function checkMessageIntegrity(raw: Buffer, key: Buffer): boolean | undefined {
  const at = offsetOf(raw, StunAttr.MessageIntegrity);
  if (at === undefined || raw.readUInt16BE(at + 2) !== 20) return undefined;
  const covered = Buffer.from(raw.subarray(0, at));
  covered.writeUInt16BE(at - HEADER + 24, 2);
  const mac = createHmac('sha1', key).update(covered).digest();
  return timingSafeEqual(mac, raw.subarray(at + 4, at + 24));
}

/** Checks FINGERPRINT of an encoded message; `undefined` when it carries none. */
export function checkFingerprint(raw: Buffer): boolean | undefined {
  const at = offsetOf(raw, StunAttr.Fingerprint);
  if (at === undefined || raw.readUInt16BE(at + 2) !== 4) return undefined;
  const head = Buffer.from(raw.subarray(0, HEADER));
  head.writeUInt16BE(at - HEADER + 8, 2);
  return fingerprintOf(head, raw.subarray(HEADER, at)).equals(raw.subarray(at + 4, at + 8));
}
