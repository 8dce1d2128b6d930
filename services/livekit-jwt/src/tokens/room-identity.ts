import { createHash } from 'node:crypto';

/**
 * The slot every legacy (`/sfu/get`) call lands in. Element Call uses the same slot on
 * `/get_token`, so legacy and MatrixRTC clients of one Matrix room share one LiveKit room.
 */
export const LEGACY_SLOT_ID = 'm.call#ROOM';

/**
 * Unpadded standard base64 of SHA-256 of the compact JSON array of `parts`, serialised as
 * `JSON.stringify` does. This is what the Rust upstream (serde_json) and matrix-js-sdk's
 * `computeRtcIdentityRaw` compute. The Go releases HTML-escaped `<`, `>` and `&` (and U+2028,
 * U+2029) first, so hashes of inputs holding those characters differ from theirs on purpose.
 */
export function hashParts(parts: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify(parts), 'utf8')
    .digest('base64')
    .replace(/=+$/, '');
}

/** LiveKit room name for a MatrixRTC slot: `B64(SHA256(json([roomId, slotId])))`. */
export function roomAlias(roomId: string, slotId: string): string {
  return hashParts([roomId, slotId]);
}

/** LiveKit room name for a legacy `/sfu/get` request: the alias of the `m.call#ROOM` slot. */
export function legacyRoomAlias(room: string): string {
  return roomAlias(room, LEGACY_SLOT_ID);
}

/**
 * LiveKit identity for `/get_token`: `B64(SHA256(json([userId, deviceId, memberId])))`. Clients
 * compute the same value to map LiveKit participants back to MatrixRTC members.
 */
export function participantIdentity(userId: string, deviceId: string, memberId: string): string {
  return hashParts([userId, deviceId, memberId]);
}

/** LiveKit identity for `/sfu/get`: plain `userId:deviceId`, not hashed (legacy clients expect it). */
export function legacyIdentity(userId: string, deviceId: string): string {
  return `${userId}:${deviceId}`;
}
