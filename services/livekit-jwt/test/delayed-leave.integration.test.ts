import { dispose, Room } from '@livekit/rtc-node';
import { freePort, type Livekit, startLivekit } from '@rtc-sidecars/test-harness';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadServiceConfig, type ServiceConfig } from '../src/config.ts';
import { delegatedJwt, FakeVerifier, getTokenBody } from './helpers.ts';
import { RecordingHomeserver } from './recording-homeserver.ts';

const HS = 'example.com';
const KEY = `API${randomBytes(6).toString('hex')}`;
const SECRET = randomBytes(32).toString('base64url');

/** Waits for `condition`; the bound only keeps a broken run from hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The real livekit-server posts its signed webhooks to the listening service; a small
// homeserver records the MSC4140 calls the service makes.
describe('delegated delayed leave with a real LiveKit server', () => {
  let sfu: Livekit;
  let app: FastifyInstance;
  let checked: FastifyInstance | undefined;
  let homeserver: RecordingHomeserver;
  /** The homeserver's calls so far, as `<delay_id>/<action>`. */
  const calls = (): string[] => homeserver.paths();
  const rooms: Room[] = [];

  /** The service against this file's SFU and homeserver; `env` adds settings. */
  function config(env: Record<string, string> = {}): ServiceConfig {
    return loadServiceConfig({
      LIVEKIT_URL: sfu.wsUrl,
      LIVEKIT_KEY: KEY,
      LIVEKIT_SECRET: SECRET,
      LIVEKIT_FULL_ACCESS_HOMESERVERS: HS,
      LIVEKIT_CS_API_URL_OVERRIDES: `${HS}=${homeserver.url}`,
      LIVEKIT_JWT_RATE_LIMIT: '0',
      ...env,
    }).config;
  }

  /** Gets a token from `service` that delegates `delayId`, and joins the SFU with it. */
  async function joinDelegated(
    service: FastifyInstance,
    roomId: string,
    delayId: string,
    delayTimeout: number,
  ): Promise<Room> {
    const jwt = await delegatedJwt(service, HS, roomId, delayId, delayTimeout);
    const room = new Room();
    rooms.push(room);
    await room.connect(sfu.wsUrl, jwt, { autoSubscribe: false, dynacast: false });
    return room;
  }

  beforeAll(async () => {
    homeserver = await new RecordingHomeserver().start();

    const port = await freePort();
    sfu = await startLivekit({
      apiKey: KEY,
      apiSecret: SECRET,
      webhookUrls: [`http://127.0.0.1:${port}/sfu_webhook`],
    });
    app = await buildApp({ config: config(), verifier: new FakeVerifier(), logStream: false });
    await app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await Promise.allSettled(rooms.map((r) => r.disconnect()));
    await app.close();
    await checked?.close();
    await sfu.stop();
    await homeserver.close();
    await dispose();
  });

  it('should restart while the member is connected and send once when it leaves', async () => {
    const room = await joinDelegated(app, '!call:example.com', 'syd_alive', 2_000);

    // Restarted at once on join, then every 1.6 s: the member outlives its 2 s delay.
    await until(() => calls().filter((c) => c === 'syd_alive/restart').length >= 3, 'restarts');
    expect(calls().every((c) => c === 'syd_alive/restart')).toBe(true);

    await room.disconnect();
    await until(() => calls().includes('syd_alive/send'), 'send');
    // The homeserver records the send when it arrives; the job ends (and is counted) only once
    // the service has read the answer and removed the job, a moment later.
    const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
    await expect
      .poll(metrics)
      .toContain('livekit_jwt_delayed_leave_jobs_ended_total{outcome="sent"} 1');
    expect(await metrics()).toContain('livekit_jwt_webhooks_total{result="routed"} 2');
    expect(calls().filter((c) => c === 'syd_alive/send')).toHaveLength(1);
  });

  it('should act only on the latest delegation of a member', async () => {
    const old = getTokenBody(HS, {
      room_id: '!other:example.com',
      delay_id: 'syd_old',
      delay_timeout: 60_000,
    });
    expect((await app.inject({ method: 'POST', url: '/get_token', payload: old })).statusCode).toBe(
      200,
    );
    const room = await joinDelegated(app, '!other:example.com', 'syd_new', 60_000);
    await until(() => calls().includes('syd_new/restart'), 'restart');
    await room.disconnect();
    await until(() => calls().includes('syd_new/send'), 'send');
    expect(calls().filter((c) => c.startsWith('syd_new/'))).toEqual([
      'syd_new/restart',
      'syd_new/send',
    ]);
    expect(calls().filter((c) => c.startsWith('syd_old/'))).toEqual([]);
  });

  it('should find the join by lookup and the departure by the sanity check without webhooks', async () => {
    // A second instance LiveKit sends no webhooks to: its participant lookup sees the member
    // join, and only the sanity check can see it leave.
    checked = await buildApp({
      config: config({ LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: '1' }),
      verifier: new FakeVerifier(),
      logStream: false,
    });
    const room = await joinDelegated(checked, '!quiet:example.com', 'syd_quiet', 60_000);
    await until(() => calls().includes('syd_quiet/restart'), 'restart after a lookup');
    await room.disconnect();
    await until(() => calls().includes('syd_quiet/send'), 'send after a sweep');
    expect(calls().filter((c) => c.startsWith('syd_quiet/'))).toEqual([
      'syd_quiet/restart',
      'syd_quiet/send',
    ]);
  });
});
