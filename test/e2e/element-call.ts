import { createHash, randomUUID } from 'node:crypto';
import type { IOpenIDToken } from 'matrix-js-sdk';

/** The MatrixRTC slot Element Call uses for a room's call. */
export const CALL_SLOT = 'm.call#ROOM';

/** What the LiveKit token service answers on success. */
export interface SfuConfig {
  readonly url: string;
  readonly jwt: string;
}

/** The status and JSON body of one token-service request. */
export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Unpadded standard base64 of SHA-256 over a compact JSON array, as lk-jwt-service hashes names. */
export function hashedName(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64').replace(/=+$/, '');
}

/** A call member as Element Call describes itself in `/get_token`. */
export interface CallMember {
  readonly id: string;
  readonly claimed_user_id: string;
  readonly claimed_device_id: string;
}

/** A fresh MatrixRTC member for `userId` on `deviceId` (Element Call uses a random member id). */
export function callMember(userId: string, deviceId: string): CallMember {
  return { id: randomUUID(), claimed_user_id: userId, claimed_device_id: deviceId };
}

async function post(
  fetchFn: typeof fetch,
  url: string,
  body: Record<string, unknown>,
): Promise<TokenResponse> {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://app.element.io' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The MSC4140 delayed leave a member hands to the token service with `/get_token`. */
export interface DelayedLeaveDelegation {
  /** `delay_id` Synapse returned for the delayed leave event. */
  readonly delay_id: string;
  /** The event's delay in ms, which the service must keep restarting within. */
  readonly delay_timeout: number;
  /** Still sent by Element Call; lk-jwt-service ignores it and discovers the API itself. */
  readonly delay_cs_api_url?: string;
}

/**
 * `POST <focus>/get_token` with the body Element Call sends (MSC4195), optionally delegating the
 * member's delayed leave to the service.
 */
export function getToken(
  fetchFn: typeof fetch,
  serviceUrl: string,
  roomId: string,
  openidToken: IOpenIDToken,
  member: CallMember,
  delegation?: DelayedLeaveDelegation,
): Promise<TokenResponse> {
  return post(fetchFn, `${serviceUrl}/get_token`, {
    room_id: roomId,
    slot_id: CALL_SLOT,
    openid_token: openidToken,
    member,
    ...delegation,
  });
}

/** `POST <focus>/sfu/get`, the legacy request older Element Call versions send. */
export function sfuGet(
  fetchFn: typeof fetch,
  serviceUrl: string,
  roomId: string,
  openidToken: IOpenIDToken,
  deviceId: string,
): Promise<TokenResponse> {
  return post(fetchFn, `${serviceUrl}/sfu/get`, {
    room: roomId,
    openid_token: openidToken,
    device_id: deviceId,
  });
}

/** Narrows a successful token response to its `{url, jwt}`, or fails with the body. */
export function sfuConfig(res: TokenResponse): SfuConfig {
  const { url, jwt } = res.body;
  if (res.status !== 200 || typeof url !== 'string' || typeof jwt !== 'string') {
    throw new Error(`token service answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return { url, jwt };
}
