import { CreateRoomRequest, RoomParticipantIdentity } from '@livekit/protocol';
import { Agent, request } from 'undici';
import type { TokenMinter } from '../tokens/token-minter.ts';

/** Room settings upstream uses: close 5 min after creation if nobody joins, 20 s after the last leaves. */
export const ROOM_SETTINGS = Object.freeze({
  emptyTimeout: 300,
  departureTimeout: 20,
  maxParticipants: 0,
});

/** The part of LiveKit's RoomService the token service needs; injectable for tests. */
export interface RoomService {
  /** Creates the room (idempotent on the SFU side); rejects when the SFU does not confirm it. */
  createRoom(name: string): Promise<void>;
  /**
   * Whether the SFU knows the participant (`GetParticipant`): true, false when it answers
   * `not_found`, undefined when it could not tell (an error or no answer). Never rejects. The
   * delayed leave jobs look members up with it, and the sanity check asks it about departures.
   */
  hasParticipant(room: string, identity: string): Promise<boolean | undefined>;
  /** Releases pooled connections. */
  close(): Promise<void>;
}

/** The SFU refused or did not answer a RoomService call. */
export class RoomServiceError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoomServiceError';
  }
}

/** Protobuf body of `CreateRoom` for `name` with {@link ROOM_SETTINGS}. */
export function encodeCreateRoomRequest(name: string): Uint8Array {
  return new CreateRoomRequest({ name, ...ROOM_SETTINGS }).toBinary();
}

/** Options for {@link TwirpRoomService}. */
export interface TwirpRoomServiceOptions {
  /** HTTP(S) base URL of the SFU, path prefix kept (e.g. `https://sfu.example.org/livekit`). */
  readonly apiUrl: string;
  readonly minter: TokenMinter;
  /** Deadline for one call, connect included. */
  readonly timeoutMs?: number;
}

const SERVICE_TOKEN_TTL_S = 600;
const SERVICE_TOKEN_REUSE_MS = 300_000;
const MAX_ERROR_BODY = 512;

/**
 * RoomService over Twirp with **protobuf** bodies, as the reference service sends them.
 * livekit-server-sdk's `RoomServiceClient` speaks Twirp JSON only, which upstream's own
 * black-box SFU fake refuses, so the request is built from `@livekit/protocol` messages here.
 * Connections are pooled; the `roomCreate` service token is reused for five minutes.
 */
export class TwirpRoomService implements RoomService {
  private readonly endpoint: string;
  private readonly base: string;
  private readonly minter: TokenMinter;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private cached: { token: string; until: number } | undefined;

  public constructor(options: TwirpRoomServiceOptions) {
    this.base = `${options.apiUrl.replace(/\/+$/, '')}/twirp/livekit.RoomService/`;
    this.endpoint = `${this.base}CreateRoom`;
    this.minter = options.minter;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.agent = new Agent({
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  public async createRoom(name: string): Promise<void> {
    let res;
    try {
      res = await request(this.endpoint, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/protobuf',
          authorization: `Bearer ${await this.serviceToken()}`,
        },
        body: encodeCreateRoomRequest(name),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RoomServiceError(`CreateRoom ${name}: ${(err as Error).message}`, { cause: err });
    }
    const body = await readCapped(res.body);
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new RoomServiceError(`CreateRoom ${name}: ${describeTwirpError(res.statusCode, body)}`);
    }
  }

  public async hasParticipant(room: string, identity: string): Promise<boolean | undefined> {
    try {
      const res = await request(`${this.base}GetParticipant`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/protobuf',
          authorization: `Bearer ${await this.minter.roomAdminToken(room, 60)}`,
        },
        body: new RoomParticipantIdentity({ room, identity }).toBinary(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await readCapped(res.body);
      if (res.statusCode >= 200 && res.statusCode <= 299) return true;
      // Twirp's not_found (HTTP 404) is the only answer that confirms absence.
      if (res.statusCode === 404 && body.includes('not_found')) return false;
      return undefined;
    } catch {
      return undefined;
    }
  }

  public async close(): Promise<void> {
    await this.agent.close();
  }

  private async serviceToken(): Promise<string> {
    const now = Date.now();
    if (this.cached !== undefined && this.cached.until > now) return this.cached.token;
    const token = await this.minter.roomCreateToken(SERVICE_TOKEN_TTL_S);
    this.cached = { token, until: now + SERVICE_TOKEN_REUSE_MS };
    return token;
  }
}

const CREDENTIALS = /eyJ[\w-]*\.[\w-]*\.[\w-]*|Bearer\s+\S+/gi;

/**
 * What to log about a refused Twirp call: the status, the Twirp `code` and `msg` when the body
 * has them, anything JWT-shaped or `Bearer …` removed. An SFU (or whatever answers in its place)
 * may echo the request's `Authorization`, which holds a `roomCreate` token that must not reach
 * the logs.
 */
export function describeTwirpError(status: number, body: string): string {
  let code: unknown;
  let msg: unknown;
  try {
    ({ code, msg } = JSON.parse(body) as { code?: unknown; msg?: unknown });
  } catch {
    // Not Twirp JSON: describe the raw text below.
  }
  const text = typeof msg === 'string' ? msg : body;
  const prefix =
    typeof code === 'string' ? `HTTP ${status} ${code.slice(0, 40)}` : `HTTP ${status}`;
  return `${prefix}: ${text.slice(0, 200).replace(CREDENTIALS, '[redacted]')}`;
}

/** Reads at most {@link MAX_ERROR_BODY} bytes for the log and discards the rest. */
async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < MAX_ERROR_BODY) text += chunk.toString('utf8');
  }
  return text.slice(0, MAX_ERROR_BODY);
}
