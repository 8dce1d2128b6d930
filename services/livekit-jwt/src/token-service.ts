import { OpenIdError } from '@rtc-sidecars/matrix-openid';
import { isFullAccess } from './full-access.ts';
import type { RoomService } from './room-service.ts';
import {
  legacyIdentity,
  legacyRoomAlias,
  participantIdentity,
  roomAlias,
} from './room-identity.ts';
import { MESSAGES, TokenError, badJson, unauthorised } from './token-error.ts';
import type { TokenMinter } from './token-minter.ts';
import type { LegacyTokenRequest, TokenRequest } from './token-request.ts';

/**
 * Verifies a Matrix OpenID token with the homeserver that issued it; implemented by
 * `@rtc-sidecars/matrix-openid`, faked in tests. Rejects with `OpenIdError` on every failure.
 */
export interface OpenIdVerifier {
  verify(request: { accessToken: string; serverName: string }): Promise<{ sub: string }>;
  close(): Promise<void>;
}

/** Policy switches of {@link TokenService}. */
export interface TokenPolicy {
  /** `LIVEKIT_URL`, returned verbatim. */
  readonly livekitUrl: string;
  readonly fullAccessHomeservers: readonly string[];
  readonly allowRemotePublish: boolean;
  readonly canUpdateOwnMetadata: boolean;
}

/** A successful answer and how it came about (for logs and metrics). */
export interface IssuedToken {
  readonly url: string;
  readonly jwt: string;
  readonly fullAccess: boolean;
  readonly userId: string;
  readonly room: string;
}

/**
 * The token endpoints' processing after validation, in upstream's order: OpenID verification
 * (any failure → 401), claimed-user check (`/get_token` only), full-access decision, delegation
 * guard, identity and room derivation, signing, then room creation for full-access users before
 * answering. Restricted users never cause an SFU call.
 */
export class TokenService {
  private readonly policy: TokenPolicy;
  private readonly verifier: OpenIdVerifier;
  private readonly minter: TokenMinter;
  private readonly rooms: RoomService;

  public constructor(deps: {
    policy: TokenPolicy;
    verifier: OpenIdVerifier;
    minter: TokenMinter;
    rooms: RoomService;
  }) {
    this.policy = deps.policy;
    this.verifier = deps.verifier;
    this.minter = deps.minter;
    this.rooms = deps.rooms;
  }

  /** @throws {@link TokenError} with the reference's status, errcode and message. */
  public async issue(request: TokenRequest | LegacyTokenRequest): Promise<IssuedToken> {
    const { accessToken, matrixServerName } = request.openIdToken;
    let sub: string;
    try {
      ({ sub } = await this.verifier.verify({ accessToken, serverName: matrixServerName }));
    } catch (err) {
      const kind = err instanceof OpenIdError ? err.kind : 'error';
      throw unauthorised(`openid_${kind}`, err);
    }
    if (request.kind === 'get_token' && sub !== request.member.claimedUserId) {
      throw unauthorised('claimed_user_mismatch');
    }

    const fullAccess = isFullAccess(this.policy.fullAccessHomeservers, matrixServerName);
    // Delegated delayed leave itself arrives with a later release; the guard already holds.
    if (request.delayId !== '' && !fullAccess) throw badJson(MESSAGES.restrictedDelegation);

    const room =
      request.kind === 'get_token'
        ? roomAlias(request.roomId, request.slotId)
        : legacyRoomAlias(request.room);
    const identity =
      request.kind === 'get_token'
        ? participantIdentity(sub, request.member.claimedDeviceId, request.member.id)
        : legacyIdentity(sub, request.deviceId);

    let jwt: string;
    try {
      jwt = await this.minter.joinToken({
        identity,
        room,
        canPublish: fullAccess || this.policy.allowRemotePublish,
        canUpdateOwnMetadata: this.policy.canUpdateOwnMetadata,
      });
    } catch (err) {
      throw new TokenError(500, 'M_UNKNOWN', MESSAGES.internal, 'signing_failed', { cause: err });
    }

    if (fullAccess) {
      try {
        await this.rooms.createRoom(room);
      } catch (err) {
        throw new TokenError(500, 'M_UNKNOWN', MESSAGES.roomCreation, 'room_creation_failed', {
          cause: err,
        });
      }
    }
    return { url: this.policy.livekitUrl, jwt, fullAccess, userId: sub, room };
  }
}
