import { dispose, Room } from '@livekit/rtc-node';
import {
  type Livekit,
  type Redis as RedisServer,
  startLivekit,
  startRedis,
} from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadServiceConfig } from '../src/config.ts';
import { type RoomService, TwirpRoomService } from '../src/livekit/room-service.ts';
import { TokenMinter } from '../src/tokens/token-minter.ts';
import { delegatedJwt, FakeVerifier } from './helpers.ts';
import { RecordingHomeserver } from './recording-homeserver.ts';

const HS = 'example.com';
const KEY = `API${randomBytes(6).toString('hex')}`;
const SECRET = randomBytes(32).toString('base64url');

/** One `GetParticipant` the service made through the real RoomService client. */
interface Lookup {
  readonly replica: string;
  readonly room: string;
  readonly answer: boolean | undefined;
  readonly at: number;
}

/** The real Twirp client, recording every participant lookup and LiveKit's answer. */
function recordingRooms(sfu: Livekit, replica: string, lookups: Lookup[]): RoomService {
  const rooms = new TwirpRoomService({
    apiUrl: sfu.httpUrl,
    minter: new TokenMinter({ key: KEY, secret: SECRET }),
  });
  return {
    createRoom: (name) => rooms.createRoom(name),
    hasParticipant: async (room, identity) => {
      const answer = await rooms.hasParticipant(room, identity);
      lookups.push({ replica, room, answer, at: Date.now() });
      return answer;
    },
    close: () => rooms.close(),
  };
}

// LiveKit is started without webhooks, as for an operator who swapped the image and never
// configured them, and the sanity check is off (its default): like the reference, the service
// must find the member through GetParticipant by itself, with either store.
describe('participant lookup without webhooks', () => {
  let sfu: Livekit;
  let homeserver: RecordingHomeserver;
  let redis: RedisServer;
  const apps: FastifyInstance[] = [];
  const rooms: Room[] = [];

  beforeAll(async () => {
    homeserver = await new RecordingHomeserver().start();
    [sfu, redis] = await Promise.all([
      startLivekit({ apiKey: KEY, apiSecret: SECRET }),
      startRedis(),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled(rooms.map((r) => r.disconnect()));
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([sfu.stop(), redis.stop(), homeserver.close()]);
    await dispose();
  });

  /** A service instance on `store`, recording its lookups as `replica`. */
  async function service(
    store: 'memory' | 'redis',
    replica: string,
    lookups: Lookup[],
  ): Promise<FastifyInstance> {
    const { config } = loadServiceConfig({
      LIVEKIT_URL: sfu.wsUrl,
      LIVEKIT_KEY: KEY,
      LIVEKIT_SECRET: SECRET,
      LIVEKIT_FULL_ACCESS_HOMESERVERS: HS,
      LIVEKIT_CS_API_URL_OVERRIDES: `${HS}=${homeserver.url}`,
      LIVEKIT_JWT_RATE_LIMIT: '0',
      ...(store === 'redis' ? { LIVEKIT_REDIS_URL: redis.url } : {}),
    });
    const app = await buildApp({
      config,
      verifier: new FakeVerifier(),
      rooms: recordingRooms(sfu, replica, lookups),
      logStream: false,
    });
    apps.push(app);
    return app;
  }

  async function join(jwt: string): Promise<Room> {
    const room = new Room();
    rooms.push(room);
    await room.connect(sfu.wsUrl, jwt, { autoSubscribe: false, dynacast: false });
    return room;
  }

  const actions = (delayId: string) => homeserver.of(delayId).map((c) => c.action);

  describe.each(['memory', 'redis'] as const)('with the %s store', (store) => {
    const lookups: Lookup[] = [];
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await service(store, store, lookups);
    });
    // Closed before the next block, so its Redis is shared only by the replicas there.
    afterAll(async () => {
      await app.close();
    });
    const lookupsOf = (room: string | undefined) => lookups.filter((l) => l.room === room);

    it('should find a connected member through GetParticipant and restart its event repeatedly', async () => {
      const delayId = `syd_found_${store}`;
      const room = await join(await delegatedJwt(app, HS, `!found-${store}:${HS}`, delayId, 2_000));
      // Restarted once found, then every second (2 s delay): the member outlives its delay.
      await expect.poll(() => actions(delayId).length).toBeGreaterThanOrEqual(3);
      expect(actions(delayId).every((action) => action === 'restart')).toBe(true);
      expect(lookupsOf(room.name).at(-1)?.answer).toBe(true);
      // Found once: no more lookups for a connected member.
      expect(lookupsOf(room.name).filter((l) => l.answer === true)).toHaveLength(1);
    });

    it('should find a member that joins 3 s after the delegation on a later lookup', async () => {
      const delayId = `syd_late_${store}`;
      const jwt = await delegatedJwt(app, HS, `!late-${store}:${HS}`, delayId, 30_000);
      await sleep(3_000);
      const room = await join(jwt);
      await expect.poll(() => actions(delayId), { timeout: 15_000 }).toEqual(['restart']);
      const answers = lookupsOf(room.name).map((l) => l.answer);
      // Asked at once and after about 1 s, both before the join (LiveKit: not_found), then
      // found on a later lookup.
      expect(answers.length).toBeGreaterThanOrEqual(3);
      expect(answers.slice(0, -1).every((answer) => answer === false)).toBe(true);
      expect(answers.at(-1)).toBe(true);
    });

    it('should send the leave when delay_timeout passes and the member never joins', async () => {
      const delayId = `syd_never_${store}`;
      const delegatedAt = Date.now();
      await delegatedJwt(app, HS, `!never-${store}:${HS}`, delayId, 2_500);
      await expect.poll(() => actions(delayId)).toEqual(['send']);
      // When the reference sends it: min(1 h, delay_timeout) after the delegation.
      expect(homeserver.of(delayId)[0]!.at - delegatedAt).toBeGreaterThanOrEqual(2_500);
    });
  });

  it('should have only the claimant look a member up when replicas share Redis', async () => {
    const lookups: Lookup[] = [];
    const a = await service('redis', 'a', lookups);
    await service('redis', 'b', lookups);
    const delayId = 'syd_replicas';
    const jwt = await delegatedJwt(a, HS, `!replicas:${HS}`, delayId, 30_000);
    await sleep(3_000);
    const room = await join(jwt);
    await expect.poll(() => actions(delayId), { timeout: 15_000 }).toEqual(['restart']);
    const mine = lookups.filter((l) => l.room === room.name);
    // One backoff schedule between the two replicas, not one each: at 0 s, after 0.5–1.5 s,
    // after 0.75–2.25 s more, … so at most four lookups before the join at 3 s, none twice.
    const beforeJoin = mine.filter((l) => l.answer === false);
    expect(beforeJoin.length).toBeGreaterThanOrEqual(2);
    expect(beforeJoin.length).toBeLessThanOrEqual(4);
    const gaps = mine.slice(1).map((l, i) => l.at - mine[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThan(200);
    expect(mine.filter((l) => l.answer === true)).toHaveLength(1);
    // Both replicas stay quiet about the member from then on, and it was restarted only once.
    await sleep(1_000);
    expect(lookups.filter((l) => l.room === room.name)).toHaveLength(mine.length);
    expect(actions(delayId)).toEqual(['restart']);
  });
});
