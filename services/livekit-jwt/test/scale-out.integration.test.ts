import { dispose, Room } from '@livekit/rtc-node';
import {
  freePort,
  type Livekit,
  type Redis as RedisServer,
  startLivekit,
  startRedis,
} from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { RoomServiceClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomAlias } from '../src/tokens/room-identity.ts';
import { delegatedJwt } from './helpers.ts';
import {
  nodeIdOf,
  type ReplicaSetup,
  startReplica,
  until,
  WebhookRelay,
} from './scale-out-support.ts';
import { RecordingHomeserver } from './recording-homeserver.ts';

const HS = 'example.com';
const KEY = `API${randomBytes(6).toString('hex')}`;
const SECRET = randomBytes(32).toString('base64url');
/** How long after the send a second one would have shown up (a poll is 250 ms). */
const NO_SECOND_SEND_MS = 2_500;
/** The homeserver's answer time: longer than a store poll (250 ms), see RecordingHomeserver. */
const HOMESERVER_LATENCY_MS = 300;
/** delay_timeout: restarts come every 80 % of it plus the latency, well within it. */
const DELAY_TIMEOUT_MS = 3_000;

// One redis-server shared by two livekit-server nodes (LiveKit's multi-node mode) and by two
// livekit-jwt replicas. Rooms are placed on node A, members connect through node B, and the
// hosting node's webhooks reach replica B through a relay that records them; the replica that
// minted the token (A) never sees a webhook unless a test duplicates the deliveries.
describe('delayed leave jobs across two LiveKit nodes and two livekit-jwt replicas', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let homeserver: RecordingHomeserver;
  let relay: WebhookRelay;
  let nodeA: Livekit;
  let nodeB: Livekit;
  let setup: ReplicaSetup;
  const ports = { a: 0, b: 0 };
  const replicas: { a?: FastifyInstance; b?: FastifyInstance } = {};
  const rooms: Room[] = [];
  /** What beforeAll started, stopped in reverse order (also after a partial start). */
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    redisServer = await startRedis();
    cleanups.push(() => redisServer.stop());
    redis = new Redis(redisServer.url, { lazyConnect: true });
    cleanups.push(async () => {
      redis.disconnect();
    });
    await redis.connect();
    homeserver = await new RecordingHomeserver(HOMESERVER_LATENCY_MS).start();
    cleanups.push(() => homeserver.close());
    relay = await new WebhookRelay().start();
    cleanups.push(() => relay.close());
    // `info` so the node IDs and the placement of sessions can be read from the output.
    const node = (name: string) =>
      startLivekit({
        apiKey: KEY,
        apiSecret: SECRET,
        redisAddress: `127.0.0.1:${redisServer.port}`,
        webhookUrls: [`${relay.url}/${name}`],
        logLevel: 'info',
      });
    const started = await Promise.allSettled([node('node-a'), node('node-b')]);
    for (const s of started) if (s.status === 'fulfilled') cleanups.push(() => s.value.stop());
    [nodeA, nodeB] = started.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    }) as [Livekit, Livekit];
    ports.a = await freePort();
    ports.b = await freePort();
    setup = {
      key: KEY,
      secret: SECRET,
      serverName: HS,
      csApi: homeserver.url,
      redisUrl: redisServer.url,
    };
    replicas.a = await startReplica(setup, nodeA, ports.a);
    replicas.b = await startReplica(setup, nodeB, ports.b);
    relay.targets = [replicaUrl('b')];
  });
  afterAll(async () => {
    await Promise.allSettled(rooms.map((r) => r.disconnect()));
    // Replicas first: closing one waits for its calls in flight to the homeserver.
    await Promise.allSettled([replicas.a?.close(), replicas.b?.close()]);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await dispose();
  });

  const replicaUrl = (name: 'a' | 'b') => `http://127.0.0.1:${ports[name]}`;
  const replica = (name: 'a' | 'b'): FastifyInstance => {
    const app = replicas[name];
    if (app === undefined) throw new Error(`replica ${name} is down`);
    return app;
  };

  /**
   * Places the room of `roomId` on node A, gets a token with a delegated leave from `from`,
   * and connects through node B.
   */
  async function joinThroughB(from: 'a' | 'b', roomId: string, delayId: string) {
    const name = roomAlias(roomId, 'slot1234');
    await new RoomServiceClient(nodeA.httpUrl, KEY, SECRET).createRoom({
      name,
      nodeId: nodeIdOf(nodeA),
    });
    const jwt = await delegatedJwt(replica(from), HS, roomId, delayId, DELAY_TIMEOUT_MS);
    const room = new Room();
    rooms.push(room);
    await room.connect(nodeB.wsUrl, jwt, { autoSubscribe: false, dynacast: false });
    return { room, name };
  }

  const restarts = (delayId: string) =>
    homeserver.of(delayId).filter((c) => c.action === 'restart').length;

  /** Disconnects, then checks that one send, and nothing after it, reached the homeserver. */
  async function leaveAndExpectOneSend(room: Room, delayId: string): Promise<void> {
    const whileConnected = homeserver.of(delayId).map((c) => c.action);
    expect(whileConnected.length).toBeGreaterThanOrEqual(2);
    expect(whileConnected.every((action) => action === 'restart')).toBe(true);
    await room.disconnect();
    await until(() => homeserver.of(delayId).some((c) => c.action === 'send'), 'the send');
    await new Promise((resolve) => setTimeout(resolve, NO_SECOND_SEND_MS));
    expect(homeserver.of(delayId).map((c) => c.action)).toEqual([...whileConnected, 'send']);
    // The job is deleted right after the call that the homeserver has just recorded.
    await until(async () => (await redis.hlen('lk-jwt:jobs')) === 0, 'no job left in Redis');
    expect(await redis.zcard('lk-jwt:jobs:due')).toBe(0);
    expect(await redis.hlen('lk-jwt:jobs:version')).toBe(0);
  }

  /** The longest time the member's delayed event went without a call, in ms. */
  function longestGap(delayId: string): number {
    const times = homeserver.of(delayId).map((c) => c.at);
    return Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)));
  }

  async function metric(name: 'a' | 'b', line: string): Promise<number> {
    const text = (await replica(name).inject({ method: 'GET', url: '/metrics' })).body;
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  }

  it('should run the two LiveKit nodes as one cluster in the shared Redis', async () => {
    const a = nodeIdOf(nodeA);
    const b = nodeIdOf(nodeB);
    expect(a).not.toBe(b);
    for (const node of [nodeA, nodeB])
      expect(node.process.output()).toContain('connecting to redis');
    await until(async () => (await redis.hlen('nodes')) === 2, 'both nodes in the registry');
    expect((await redis.hkeys('nodes')).sort()).toEqual([a, b].sort());
  });

  it('should send once when a member with a token from replica A leaves through node B', async () => {
    const { room, name } = await joinThroughB('a', '!one:example.com', 'syd_one');
    // The session runs on node A although the client connected to node B.
    expect(await redis.hget('room_node_map', name)).toBe(nodeIdOf(nodeA));
    const identity = room.localParticipant?.identity ?? '';
    expect(identity).not.toBe('');
    // The node logs the session from its own goroutine: the line may reach us after the join.
    await expect
      .poll(() => nodeA.process.output())
      .toMatch(new RegExp(`starting RTC session.*"participant": "${literal(identity)}"`));
    expect(nodeB.process.output()).not.toContain('starting RTC session');

    await until(() => restarts('syd_one') >= 2, 'two restarts');
    await leaveAndExpectOneSend(room, 'syd_one');
    expect(longestGap('syd_one')).toBeLessThan(DELAY_TIMEOUT_MS);
    expect(relay.eventsOf(name).map((d) => [d.from, d.event, d.to])).toEqual([
      ['node-a', 'participant_joined', [replicaUrl('b')]],
      ['node-a', 'participant_left', [replicaUrl('b')]],
    ]);
    const routed = 'livekit_jwt_webhooks_total{result="routed"}';
    expect(await metric('a', routed)).toBe(0);
    expect(await metric('b', routed)).toBe(2);
    // Counted once the replica has read Redis's answer to the removal, which the test's own
    // Redis connection may have seen first.
    const sent = 'livekit_jwt_delayed_leave_jobs_ended_total{outcome="sent"}';
    await expect.poll(async () => (await metric('a', sent)) + (await metric('b', sent))).toBe(1);
  });

  it('should keep restarting while each replica in turn is restarted, and send once', async () => {
    const { room } = await joinThroughB('a', '!two:example.com', 'syd_two');
    await until(() => restarts('syd_two') >= 1, 'the restart on join');
    for (const name of ['a', 'b'] as const) {
      await replica(name).close();
      replicas[name] = undefined;
      // Shutting down leaves the job in the store for the other replica.
      expect(await redis.hlen('lk-jwt:jobs')).toBe(1);
      // The other replica takes the job over from the shared store.
      const before = restarts('syd_two');
      await until(() => restarts('syd_two') > before, `a restart while replica ${name} is down`);
      replicas[name] = await startReplica(setup, name === 'a' ? nodeA : nodeB, ports[name]);
    }
    const before = restarts('syd_two');
    await until(() => restarts('syd_two') > before, 'a restart with both replicas back');
    await leaveAndExpectOneSend(room, 'syd_two');
    // The member's event never went a whole delay_timeout without a restart.
    expect(longestGap('syd_two')).toBeLessThan(DELAY_TIMEOUT_MS);
  });

  it('should send once when both replicas receive every webhook', async () => {
    relay.targets = [replicaUrl('a'), replicaUrl('b')];
    const { room, name } = await joinThroughB('b', '!three:example.com', 'syd_three');
    await until(() => restarts('syd_three') >= 2, 'two restarts');
    await leaveAndExpectOneSend(room, 'syd_three');
    expect(longestGap('syd_three')).toBeLessThan(DELAY_TIMEOUT_MS);
    expect(relay.eventsOf(name).map((d) => [d.event, d.to.length])).toEqual([
      ['participant_joined', 2],
      ['participant_left', 2],
    ]);
  });
});

/** `text` as a literal inside a regular expression. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
