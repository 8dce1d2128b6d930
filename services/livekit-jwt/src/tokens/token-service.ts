import { OpenIdError } from '@rtc-sidecars/matrix-openid';
import type { CsApi } from '../delayed-leave/leave-types.ts';
import { type DelayedLeaveJobs, JobsClosedError } from '../delayed-leave/delayed-leave-jobs.ts';
import { JobStoreUnavailableError } from '../stores/job-store.ts';
import { isFullAccess } from './full-access.ts';
import type { RoomService } from '../livekit/room-service.ts';
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

/** Delegated delayed leave: where members' homeservers are, and the jobs acting on them. */
export interface Delegation {
  resolveCsApi(serverName: string): Promise<CsApi | undefined>;
  readonly jobs: DelayedLeaveJobs;
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
  private readonly delegation: Delegation;

  public constructor(deps: {
    policy: TokenPolicy;
    verifier: OpenIdVerifier;
    minter: TokenMinter;
    rooms: RoomService;
    delegation: Delegation;
  }) {
    this.policy = deps.policy;
    this.verifier = deps.verifier;
    this.minter = deps.minter;
    this.rooms = deps.rooms;
    this.delegation = deps.delegation;
  }

  /** @throws {@link TokenError} with the reference's status, errcode and message. */
  public async issue(request: TokenRequest | LegacyTokenRequest): Promise<IssuedToken> {
    const { matrixServerName } = request.openIdToken;
    const sub = await this.verify(request);
    const fullAccess = isFullAccess(this.policy.fullAccessHomeservers, matrixServerName);
    if (request.delayId !== '' && !fullAccess) throw badJson(MESSAGES.restrictedDelegation);
    const { room, identity } = this.names(request, sub);

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
      // Resolved before the room is created, so an unresolvable homeserver creates nothing.
      const csApi = request.delayId === '' ? undefined : await this.resolveCsApi(matrixServerName);
      try {
        await this.rooms.createRoom(room);
      } catch (err) {
        throw new TokenError(500, 'M_UNKNOWN', MESSAGES.roomCreation, 'room_creation_failed', {
          cause: err,
        });
      }
      if (csApi !== undefined)
        await this.register(request, matrixServerName, csApi, room, identity);
    }
    return { url: this.policy.livekitUrl, jwt, fullAccess, userId: sub, room };
  }

  /**
   * `/delegate_delayed_leave`: registers the member's delayed leave job without minting a token
   * or touching the SFU. Restricted users get 403 here (400 on the token endpoints).
   *
   * @throws {@link TokenError}
   * @returns the verified user ID and the LiveKit room, for the log line.
   */
  public async delegate(request: TokenRequest): Promise<{ userId: string; room: string }> {
    const { matrixServerName } = request.openIdToken;
    const sub = await this.verify(request);
    if (!isFullAccess(this.policy.fullAccessHomeservers, matrixServerName)) {
      throw new TokenError(403, 'M_FORBIDDEN', MESSAGES.restrictedDelegation, 'forbidden');
    }
    const { room, identity } = this.names(request, sub);
    const csApi = await this.resolveCsApi(matrixServerName);
    await this.register(request, matrixServerName, csApi, room, identity);
    return { userId: sub, room };
  }

  /** OpenID verification (any failure → 401) and, with a `member`, the claimed-user check. */
  private async verify(request: TokenRequest | LegacyTokenRequest): Promise<string> {
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
    return sub;
  }

  private names(
    request: TokenRequest | LegacyTokenRequest,
    sub: string,
  ): { room: string; identity: string } {
    return request.kind === 'get_token'
      ? {
          room: roomAlias(request.roomId, request.slotId),
          identity: participantIdentity(sub, request.member.claimedDeviceId, request.member.id),
        }
      : { room: legacyRoomAlias(request.room), identity: legacyIdentity(sub, request.deviceId) };
  }

  private async resolveCsApi(serverName: string): Promise<CsApi> {
    const csApi = await this.delegation.resolveCsApi(serverName);
    if (csApi === undefined) {
      throw new TokenError(400, 'M_BAD_JSON', MESSAGES.csApiUnresolvable, 'cs_api_unresolvable');
    }
    return csApi;
  }

  private async register(
    request: TokenRequest | LegacyTokenRequest,
    serverName: string,
    csApi: CsApi,
    room: string,
    identity: string,
  ): Promise<void> {
    try {
      await this.delegation.jobs.register({
        delayId: request.delayId,
        delayTimeoutMs: request.delayTimeout,
        serverName,
        csApi,
        room,
        identity,
      });
    } catch (err) {
      if (err instanceof JobsClosedError) {
        throw new TokenError(503, 'M_UNKNOWN', MESSAGES.shuttingDown, 'shutting_down', {
          cause: err,
        });
      }
      // Redis is away: minting goes on, delegation waits for it to come back.
      if (err instanceof JobStoreUnavailableError) {
        throw new TokenError(503, 'M_UNKNOWN', MESSAGES.storeUnavailable, 'store_unavailable', {
          cause: err,
        });
      }
      throw err;
    }
  }
}
