import { OpenIdError, type OpenIdFailureKind } from '@rtc-sidecars/matrix-openid';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { jwtVerify, type JWTPayload } from 'jose';
import { AccessToken } from 'livekit-server-sdk';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { buildApp } from '../src/app.ts';
import { loadServiceConfig, type ServiceConfig } from '../src/config.ts';
import type { HomeserverClient } from '../src/delayed-leave/homeserver-client.ts';
import type {
  CsApi,
  DelayedEventAction,
  DelayedEventResult,
  DelayedLeaveParams,
} from '../src/delayed-leave/leave-types.ts';
import type { RoomService } from '../src/livekit/room-service.ts';
import type { OpenIdVerifier } from '../src/tokens/token-service.ts';

export const KEY = 'devkey';
export const SECRET = 'test-secret-0123456789abcdef-0123456789';
export const LIVEKIT_URL = 'wss://sfu.example.org/livekit/sfu';
export const FULL = 'example.com';
export const REMOTE = 'remote.example.net';

/** A config as the service would load it from a minimal environment, plus overrides. */
export function testConfig(env: Record<string, string> = {}): ServiceConfig {
  return loadServiceConfig({
    LIVEKIT_URL,
    LIVEKIT_KEY: KEY,
    LIVEKIT_SECRET: SECRET,
    LIVEKIT_FULL_ACCESS_HOMESERVERS: FULL,
    LIVEKIT_JWT_RATE_LIMIT: '0',
    ...env,
  }).config;
}

/** A verifier that records its calls; `valid-token` is `@alice:<server>`, others throw. */
export class FakeVerifier implements OpenIdVerifier {
  public readonly calls: { accessToken: string; serverName: string }[] = [];
  public failure: OpenIdFailureKind | undefined;
  public user = 'alice';

  public async verify(input: { accessToken: string; serverName: string }) {
    this.calls.push({ ...input });
    if (this.failure !== undefined) throw new OpenIdError(this.failure, `fake ${this.failure}`);
    if (input.accessToken !== 'valid-token') throw new OpenIdError('rejected', 'HTTP 401');
    return { sub: `@${this.user}:${input.serverName}` };
  }

  public async close() {}
}

/**
 * A RoomService that records created rooms and participant lookups, and can be told to fail.
 * `present` answers the lookups (default: nobody is there).
 */
export class FakeRooms implements RoomService {
  public readonly created: string[] = [];
  public readonly lookups: { room: string; identity: string; at: number }[] = [];
  public fail = false;
  public present: (room: string, identity: string) => boolean | undefined = () => false;

  public async createRoom(name: string) {
    this.created.push(name);
    if (this.fail) throw new Error('SFU said no');
  }

  public async hasParticipant(room: string, identity: string) {
    this.lookups.push({ room, identity, at: Date.now() });
    return this.present(room, identity);
  }

  public async close() {}
}

/** Collects log lines so tests can check what is (not) logged. */
export class LogSink extends Writable {
  public text = '';

  public override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

export async function makeApp(
  options: { env?: Record<string, string>; rooms?: RoomService; logs?: LogSink } = {},
) {
  const verifier = new FakeVerifier();
  const fakeRooms = new FakeRooms();
  const rooms = options.rooms ?? fakeRooms;
  const app = await buildApp({
    config: testConfig(options.env),
    verifier,
    rooms,
    logStream: options.logs ?? false,
  });
  // `rooms` records calls unless the test brought its own room service.
  return { app, verifier, rooms: fakeRooms };
}

export function getTokenBody(serverName = FULL, overrides: Record<string, unknown> = {}) {
  return {
    room_id: '!roomid:example.com',
    slot_id: 'slot1234',
    openid_token: {
      access_token: 'valid-token',
      token_type: 'Bearer',
      matrix_server_name: serverName,
      expires_in: 3600,
    },
    member: {
      id: 'memberABC',
      claimed_user_id: `@alice:${serverName}`,
      claimed_device_id: 'DEVICE123',
    },
    ...overrides,
  };
}

export function legacyBody(serverName = FULL, overrides: Record<string, unknown> = {}) {
  return {
    room: '!room:example.com',
    openid_token: {
      access_token: 'valid-token',
      token_type: 'Bearer',
      matrix_server_name: serverName,
      expires_in: 3600,
    },
    device_id: 'DEVICE',
    ...overrides,
  };
}

/** The `jwt` field of a successful token answer. */
export function jwtOf(res: { json: () => unknown }): string {
  const body = res.json() as { jwt?: unknown };
  if (typeof body.jwt !== 'string') throw new Error(`no jwt in ${JSON.stringify(body)}`);
  return body.jwt;
}

/** Verifies a minted token with the test secret and key, as a LiveKit server would. */
export async function verifyJwt(
  jwt: string,
): Promise<JWTPayload & { video?: Record<string, unknown> }> {
  const { payload } = await jwtVerify<{ video?: Record<string, unknown> }>(
    jwt,
    new TextEncoder().encode(SECRET),
    {
      algorithms: ['HS256'],
      issuer: KEY,
    },
  );
  return payload;
}

export const CORS = {
  'content-type': 'application/json',
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers':
    'Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token',
};

/**
 * Posts a LiveKit webhook as livekit-server signs it (HS256 JWT carrying the body's SHA-256);
 * `secret` signs with another secret, `tamper` changes the body after signing.
 */
export async function signedWebhook(
  app: FastifyInstance,
  event: object,
  options: { secret?: string; tamper?: boolean; id?: string } = {},
): Promise<LightMyRequestResponse> {
  const body = JSON.stringify({ id: options.id ?? 'EV_1', createdAt: '1', ...event });
  const token = new AccessToken(KEY, options.secret ?? SECRET);
  token.sha256 = createHash('sha256').update(body).digest('base64');
  const jwt = await token.toJwt();
  return app.inject({
    method: 'POST',
    url: '/sfu_webhook',
    headers: { authorization: jwt, 'content-type': 'application/webhook+json' },
    payload: options.tamper === true ? body.replace(/"id":"[^"]*"/, '"id":"EV_X"') : body,
  });
}

/**
 * Asks `service` for a `/get_token` JWT that delegates `delayId` (a full-access user of
 * `serverName` in `roomId`), checking it was granted.
 */
export async function delegatedJwt(
  service: FastifyInstance,
  serverName: string,
  roomId: string,
  delayId: string,
  delayTimeout: number,
): Promise<string> {
  const res = await service.inject({
    method: 'POST',
    url: '/get_token',
    payload: getTokenBody(serverName, {
      room_id: roomId,
      delay_id: delayId,
      delay_timeout: delayTimeout,
    }),
  });
  if (res.statusCode !== 200) throw new Error(`get_token answered ${res.statusCode}: ${res.body}`);
  return jwtOf(res);
}

/** A delegation's parameters as the job store keeps them, for store-level tests. */
export function leaveParams(overrides: Partial<DelayedLeaveParams> = {}): DelayedLeaveParams {
  return {
    delayId: 'syd_1',
    delayTimeoutMs: 10_000,
    serverName: 'example.com',
    csApi: { baseUrl: 'https://hs.example.com', trusted: true },
    room: 'ROOM',
    identity: 'ID',
    ...overrides,
  };
}

/** The client-server API {@link FakeHomeserver} resolves {@link FULL} to. */
export const CS_API: CsApi = { baseUrl: 'http://hs.internal:8008', trusted: true };

/** A homeserver client that resolves only {@link FULL} and records every MSC4140 call. */
export class FakeHomeserver implements HomeserverClient {
  public readonly calls: { delayId: string; action: DelayedEventAction }[] = [];
  public answer: (action: DelayedEventAction) => DelayedEventResult = () => ({ outcome: 'ok' });
  public async resolveCsApi(serverName: string) {
    return serverName === FULL ? CS_API : undefined;
  }
  public async call(_csApi: CsApi, delayId: string, action: DelayedEventAction) {
    this.calls.push({ delayId, action });
    return this.answer(action);
  }
  public async close() {}
}
