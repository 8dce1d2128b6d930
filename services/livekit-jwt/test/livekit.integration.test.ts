import {
  AudioSource,
  dispose,
  LocalAudioTrack,
  Room,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { createOpenIdVerifier } from '@rtc-sidecars/matrix-openid';
import { type Livekit, startLivekit } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { RoomServiceClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadServiceConfig } from '../src/config.ts';
import { participantIdentity, roomAlias } from '../src/tokens/room-identity.ts';
import type { OpenIdVerifier } from '../src/tokens/token-service.ts';
import { FakeVerifier, getTokenBody, jwtOf, legacyBody, REMOTE } from './helpers.ts';

const HS = 'example.com';
/** A fresh key pair for this run's livekit-server (rooms are created only through the API). */
const KEY = `API${randomBytes(6).toString('hex')}`;
const SECRET = randomBytes(32).toString('base64url');

describe('livekit-jwt against a real LiveKit server', () => {
  let sfu: Livekit;
  let client: RoomServiceClient;
  const apps: FastifyInstance[] = [];
  const connected: Room[] = [];

  beforeAll(async () => {
    sfu = await startLivekit({ apiKey: KEY, apiSecret: SECRET });
    client = new RoomServiceClient(sfu.httpUrl, KEY, SECRET);
  });
  afterAll(async () => {
    await Promise.allSettled(connected.map((r) => r.disconnect()));
    await Promise.allSettled(apps.map((a) => a.close()));
    await sfu.stop();
    await dispose();
  });

  async function service(verifier: OpenIdVerifier = new FakeVerifier()) {
    const { config } = loadServiceConfig({
      LIVEKIT_URL: sfu.wsUrl,
      LIVEKIT_KEY: KEY,
      LIVEKIT_SECRET: SECRET,
      LIVEKIT_FULL_ACCESS_HOMESERVERS: HS,
      LIVEKIT_JWT_RATE_LIMIT: '0',
    });
    const app = await buildApp({ config, verifier, logStream: false });
    apps.push(app);
    return app;
  }

  async function join(url: string, jwt: string): Promise<Room> {
    const room = new Room();
    await room.connect(url, jwt, { autoSubscribe: false, dynacast: false });
    connected.push(room);
    return room;
  }

  const roomBody = (roomId: string, server: string) =>
    getTokenBody(server, { room_id: roomId, slot_id: 'm.call#ROOM' });

  it('should create the room before answering and mint a token LiveKit accepts', async () => {
    const app = await service();
    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: roomBody('!full:example.com', HS),
    });
    expect(res.statusCode).toBe(200);
    const { url } = res.json<{ url: string }>();
    expect(url).toBe(sfu.wsUrl);

    const name = roomAlias('!full:example.com', 'm.call#ROOM');
    const [created] = await client.listRooms([name]);
    expect(created?.name).toBe(name);
    expect(created).toMatchObject({ emptyTimeout: 300, departureTimeout: 20, maxParticipants: 0 });

    const room = await join(url, jwtOf(res));
    const identity = participantIdentity(`@alice:${HS}`, 'DEVICE123', 'memberABC');
    expect(room.localParticipant?.identity).toBe(identity);
    expect(room.name).toBe(created?.name);
    const [participant] = await client.listParticipants(created!.name);
    expect(participant?.identity).toBe(identity);
    expect(participant?.permission).toMatchObject({ canPublish: true, canSubscribe: true });
  });

  it('should let a restricted user join an existing room without publishing', async () => {
    const app = await service();
    const full = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: roomBody('!mixed:example.com', HS),
    });
    expect(full.statusCode).toBe(200);
    const roomsBefore = (await client.listRooms()).length;

    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: roomBody('!mixed:example.com', REMOTE),
    });
    expect(res.statusCode).toBe(200);
    expect((await client.listRooms()).length).toBe(roomsBefore);
    const room = await join(sfu.wsUrl, jwtOf(res));
    const participants = await client.listParticipants(room.name!);
    const me = participants.find((p) => p.identity === room.localParticipant?.identity);
    expect(me?.permission).toMatchObject({
      canPublish: false,
      canSubscribe: true,
      canPublishData: false,
    });

    const source = new AudioSource(48_000, 1);
    const track = LocalAudioTrack.createAudioTrack('mic', source);
    await expect(
      room.localParticipant!.publishTrack(
        track,
        new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
      ),
    ).rejects.toThrow();
    expect(
      (await client.listParticipants(room.name!)).find((p) => p.identity === me?.identity)?.tracks,
    ).toEqual([]);
  }, 40_000);

  it('should leave rooms uncreated for restricted users, so their token alone cannot open one', async () => {
    const app = await service();
    const res = await app.inject({
      method: 'POST',
      url: '/get_token',
      payload: roomBody('!nobody:example.net', REMOTE),
    });
    expect(res.statusCode).toBe(200);
    await expect(join(sfu.wsUrl, jwtOf(res))).rejects.toThrow(/does not exist|404/);
  });

  it('should create the legacy room and accept the sub:device identity on /sfu/get', async () => {
    const app = await service();
    const res = await app.inject({
      method: 'POST',
      url: '/sfu/get',
      payload: legacyBody(HS, { room: '!legacy:example.com' }),
    });
    expect(res.statusCode).toBe(200);
    const room = await join(sfu.wsUrl, jwtOf(res));
    expect(room.localParticipant?.identity).toBe(`@alice:${HS}:DEVICE`);
    expect((await client.listRooms([room.name!])).length).toBe(1);
  });

  describe('through the real OpenID verifier with an override', () => {
    let homeserver: Server;
    let base: string;
    const seen: string[] = [];

    beforeAll(async () => {
      homeserver = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        seen.push(url.pathname);
        res.setHeader('content-type', 'application/json');
        if (url.pathname !== '/_matrix/federation/v1/openid/userinfo') {
          res.writeHead(404).end('{"errcode":"M_UNRECOGNIZED","error":"no"}');
        } else if (url.searchParams.get('access_token') === 'valid-token') {
          res.end(JSON.stringify({ sub: `@alice:${HS}` }));
        } else {
          res.writeHead(401).end('{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}');
        }
      });
      await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(homeserver.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => homeserver.close(resolve));
    });

    it('should mint a token for a verified user and answer the reference 401 for a rejected one', async () => {
      const verifier = createOpenIdVerifier({ overrides: new Map([[HS, base]]) });
      const app = await service(verifier);
      const ok = await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: roomBody('!real:example.com', HS),
      });
      expect(ok.statusCode).toBe(200);
      const room = await join(sfu.wsUrl, jwtOf(ok));
      expect(room.localParticipant?.identity).toBe(
        participantIdentity(`@alice:${HS}`, 'DEVICE123', 'memberABC'),
      );

      const bad = await app.inject({
        method: 'POST',
        url: '/get_token',
        payload: getTokenBody(HS, {
          openid_token: { access_token: 'stolen', matrix_server_name: HS },
        }),
      });
      expect(bad.statusCode).toBe(401);
      expect(bad.json()).toEqual({
        errcode: 'M_UNAUTHORIZED',
        error: 'The request could not be authorised.',
      });
      expect(seen).toEqual([
        '/_matrix/federation/v1/openid/userinfo',
        '/_matrix/federation/v1/openid/userinfo',
      ]);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(
        /livekit_jwt_openid_verify_duration_seconds_count\{result="rejected"\} 1/,
      );
    });
  });
});
