import { createHmac, type KeyObject, createSecretKey } from 'node:crypto';

/** Lifetime of a join token, as upstream: one hour. */
export const JOIN_TOKEN_TTL_SECONDS = 3600;

/** The LiveKit API key pair the SFU trusts. */
export interface LiveKitCredentials {
  readonly key: string;
  readonly secret: string;
}

/** What a join token allows. */
export interface JoinGrant {
  /** LiveKit participant identity (JWT `sub`). */
  readonly identity: string;
  /** LiveKit room name (`video.room`). */
  readonly room: string;
  /** Full-access users (or everyone with `LIVEKIT_ALLOW_REMOTE_PUBLISH`) may publish. */
  readonly canPublish: boolean;
  /** Only with `LIVEKIT_CAN_UPDATE_OWN_METADATA=true`, as in the current upstream. */
  readonly canUpdateOwnMetadata: boolean;
}

/** `{"alg":"HS256","typ":"JWT"}`, encoded once. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/**
 * Signs LiveKit JWTs (HS256, `iss` = API key) the way upstream does. `now` is injectable so the
 * exact claims can be tested; `nbf` and `iat` are set from the same instant as `exp`, so
 * `exp - nbf` is exactly the lifetime.
 *
 * Signing is a plain RFC 7515 compact JWS with node:crypto's HMAC: on the token path it costs a
 * fraction of jose's WebCrypto round trip (which re-imports the key and hops through an async
 * job for every token), and the tests verify every minted token with jose.
 */
export class TokenMinter {
  private readonly key: string;
  private readonly secret: KeyObject;
  private readonly now: () => number;

  public constructor(credentials: LiveKitCredentials, now: () => number = Date.now) {
    this.key = credentials.key;
    this.secret = createSecretKey(Buffer.from(credentials.secret, 'utf8'));
    this.now = now;
  }

  /**
   * A participant join token: `roomJoin`, `canSubscribe`, the room, never `roomCreate` (that
   * grant would also let a client delete rooms); `canPublish` and `canUpdateOwnMetadata` as given.
   */
  public async joinToken(grant: JoinGrant): Promise<string> {
    const video: Record<string, unknown> = {
      roomJoin: true,
      room: grant.room,
      canPublish: grant.canPublish,
      canSubscribe: true,
    };
    if (grant.canUpdateOwnMetadata) video.canUpdateOwnMetadata = true;
    return this.sign({ video }, grant.identity, JOIN_TOKEN_TTL_SECONDS);
  }

  /** A short-lived service token for RoomService calls about one room (grant `roomAdmin`). */
  public async roomAdminToken(room: string, ttlSeconds: number): Promise<string> {
    return this.sign({ video: { roomAdmin: true, room } }, undefined, ttlSeconds);
  }

  /** A short-lived service token for RoomService `CreateRoom` (grant `roomCreate`). */
  public async roomCreateToken(ttlSeconds: number): Promise<string> {
    return this.sign({ video: { roomCreate: true } }, undefined, ttlSeconds);
  }

  private async sign(
    claims: Record<string, unknown>,
    subject: string | undefined,
    ttlSeconds: number,
  ): Promise<string> {
    const now = Math.floor(this.now() / 1000);
    const payload = {
      ...claims,
      iss: this.key,
      ...(subject === undefined ? {} : { sub: subject }),
      iat: now,
      nbf: now,
      exp: now + ttlSeconds,
    };
    const input = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = createHmac('sha256', this.secret).update(input).digest('base64url');
    return `${input}.${signature}`;
  }
}
