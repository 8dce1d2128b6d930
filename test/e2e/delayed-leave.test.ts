import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALL_MEMBER,
  currentMembership,
  delayedSince,
  memberContent,
  memberStateKey,
  until,
} from './call-membership.ts';
import { callMember, getToken, sfuConfig } from './element-call.ts';
import { joinCall } from './livekit-participant.ts';
import { type LoggedIn, loginWithPassword } from './matrix-login.ts';
import { type Stack, startStack } from './stack.ts';
import { Timings } from './timings.ts';

/** A member in a call whose delayed leave livekit-jwt holds. */
interface InCall {
  readonly user: LoggedIn;
  readonly roomId: string;
  readonly stateKey: string;
  readonly delayId: string;
  /** The membership content as sent, which the room state must keep while the member is in. */
  readonly joined: Record<string, unknown>;
  readonly room: Room;
  /** `Date.now()` as the client started connecting: a later restart can only be the service's. */
  readonly connectingAt: number;
  /** What happened when, relative to scheduling the delayed leave, for failure messages. */
  readonly steps: string[];
}

const isLeave = (content: Record<string, unknown>): boolean => Object.keys(content).length === 0;

// One stack for both cases. Synapse runs MSC4140 with its default limit on unauthenticated
// restart/send calls (5 at once, then 1/s per address), as a real deployment does.
describe(
  'delegated delayed leave end to end (Synapse MSC4140, LiveKit webhooks, livekit-jwt)',
  { timeout: 90_000 },
  () => {
    const timings = new Timings();
    const rooms: Room[] = [];
    let stack: Stack | undefined;
    let alice: LoggedIn;
    let bob: LoggedIn;

    beforeAll(async () => {
      stack = await timings.measure('start stack with delayed leave', () =>
        startStack(timings, { delayedLeave: true }),
      );
      const started = stack;
      [alice, bob] = await timings.measure('register and log in two users', async () => {
        const [a, b] = await Promise.all([
          started.synapse.register('alice'),
          started.synapse.register('bob'),
        ]);
        return Promise.all([
          loginWithPassword(started.publicBaseUrl, a, started.fetch),
          loginWithPassword(started.publicBaseUrl, b, started.fetch),
        ]);
      });
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(rooms.map((r) => r.disconnect()));
      await dispose();
      await stack?.stop();
      console.log(timings.report('e2e delayed leave'));
    });

    /** The service's view (metrics) and the recent output of every process involved. */
    async function diagnose(call?: InCall): Promise<string> {
      if (stack === undefined) return 'no stack';
      const metrics = await fetch(`${stack.livekitJwt.url}/metrics`)
        .then(async (r) => r.text())
        .catch((err: unknown) => `metrics unavailable: ${String(err)}`);
      const tail = (text: string): string => text.split('\n').slice(-40).join('\n');
      return [
        ...(call ? ['--- steps (ms after scheduling the delayed leave)', ...call.steps] : []),
        '--- livekit-jwt metrics',
        ...metrics.split('\n').filter((l) => /delayed_leave|webhook/.test(l) && !l.startsWith('#')),
        '--- livekit-jwt output',
        tail(stack.livekitJwt.process.output()),
        '--- Synapse output',
        tail(stack.synapse.process.output()),
        '--- livekit-server output',
        tail(stack.livekit.process.output()),
      ].join('\n');
    }

    /**
     * Element Call's join with delegation: the membership state event, an OpenID token, the
     * delayed leave (same type and state key, empty content) scheduled on Synapse, `/get_token`
     * handing its `delay_id` to livekit-jwt, then the LiveKit connection. The delayed leave is
     * scheduled as late as possible, so the service has the whole delay to take it over.
     */
    async function enterCall(user: LoggedIn, delayMs: number): Promise<InCall> {
      const s = stack;
      if (s === undefined) throw new Error('no stack: start-up failed');
      const { room_id: roomId } = await timings.measure('create room', () =>
        user.client.createRoom({ name: 'delayed leave' }),
      );
      const stateKey = memberStateKey(user);
      const joined = { ...memberContent(user, roomId, s.livekitServiceUrl) };
      await timings.measure('send call membership', () =>
        user.client.sendStateEvent(roomId, CALL_MEMBER, joined, stateKey),
      );
      const openid = await timings.measure('OpenID token', () => user.client.getOpenIdToken());
      const { delay_id: delayId } = await timings.measure('schedule delayed leave', () =>
        user.client._unstable_sendDelayedStateEvent(
          roomId,
          { delay: delayMs },
          CALL_MEMBER,
          {},
          stateKey,
        ),
      );
      const scheduledAt = Date.now();
      const steps = [`delayed leave ${delayId} scheduled with delay ${delayMs} ms`];
      const step = (what: string): void => {
        steps.push(`+${Date.now() - scheduledAt} ${what}`);
      };
      const token = await timings.measure('POST /get_token with delay_id', () =>
        getToken(
          s.fetch,
          s.livekitServiceUrl,
          roomId,
          openid,
          callMember(user.userId, user.deviceId),
          // Element Call still sends its homeserver URL; the service must ignore it (the
          // public name does not resolve here) and use the operator's override instead.
          { delay_id: delayId, delay_timeout: delayMs, delay_cs_api_url: s.publicBaseUrl },
        ),
      );
      const sfu = sfuConfig(token);
      step('token');
      const connectingAt = Date.now();
      const room = await timings.measure('connect to LiveKit', () => joinCall(sfu.url, sfu.jwt));
      rooms.push(room);
      step('connected to LiveKit');
      return { user, roomId, stateKey, delayId, joined, room, connectingAt, steps };
    }

    /** Hangs up and waits for the leave (empty membership) in the room state: the time it took. */
    async function hangUpUntilLeave(call: InCall, label: string): Promise<number> {
      await call.room.disconnect();
      const { ms } = await timings.measure(label, () =>
        until(
          'leave (empty membership) in the room state',
          async () => {
            const content = await currentMembership(call.user.client, call.roomId, call.stateKey);
            return isLeave(content) ? content : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250, diagnose: () => diagnose(call) },
        ),
      );
      return ms;
    }

    it('should publish the leave as soon as a member hangs up, long before its delay', async () => {
      const call = await enterCall(alice, 60_000);
      const { client } = call.user;
      // Synapse's own record shows the service took over: restarted after the client connected.
      const { value: restartedAt } = await timings.measure('restart seen on Synapse', () =>
        until(
          'restart of the delayed leave by livekit-jwt',
          async () => {
            const since = await delayedSince(client, call.delayId);
            return since !== undefined && since >= call.connectingAt ? since : undefined;
          },
          // Slower than Synapse's 1/s limit on reading delayed events.
          { timeoutMs: 20_000, intervalMs: 1_200, diagnose: () => diagnose(call) },
        ),
      );
      expect(await currentMembership(client, call.roomId, call.stateKey)).toEqual(call.joined);

      const ms = await hangUpUntilLeave(call, 'hang up → leave in room state');
      console.log(`delayed leave: leave in room state ${ms.toFixed(0)} ms after hang-up`);
      expect(ms).toBeLessThan(10_000);
      expect(Date.now()).toBeLessThan(restartedAt + 60_000);
      // Sent, not merely overwritten: Synapse no longer holds it.
      expect(await delayedSince(client, call.delayId)).toBeUndefined();
      // The job lived in Redis and is gone from it (the gauge counts Redis's jobs hash).
      const started = stack!;
      expect(started.livekitJwt.process.output()).toContain('redis (shared)');
      await expect
        .poll(async () => (await fetch(`${started.livekitJwt.url}/metrics`)).text())
        .toMatch(/^livekit_jwt_delayed_leave_jobs 0$/m);
    });

    it('should keep a connected member in the call past its delay, then publish its leave', async () => {
      const delayMs = 4_000;
      const call = await enterCall(bob, delayMs);
      const { client } = call.user;
      // The client never restarts the delayed leave itself: for three delays only the service can.
      const holdUntil = call.connectingAt + 3 * delayMs;
      await timings.measure('stay connected for three delays', async () => {
        while (Date.now() < holdUntil) {
          const content = await currentMembership(client, call.roomId, call.stateKey);
          if (isLeave(content)) {
            const at = Date.now() - call.connectingAt;
            throw new Error(
              `the leave fired ${at} ms after connecting, while still connected\n${await diagnose(call)}`,
            );
          }
          expect(content).toEqual(call.joined);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      });
      const since = await delayedSince(client, call.delayId);
      expect(since, 'the delayed leave is still scheduled').toBeDefined();
      expect(since).toBeGreaterThan(call.connectingAt + delayMs);

      const ms = await hangUpUntilLeave(call, 'hang up → leave in room state (short delay)');
      console.log(`delayed leave (${delayMs} ms): leave ${ms.toFixed(0)} ms after hang-up`);
      expect(await delayedSince(client, call.delayId)).toBeUndefined();
    });
  },
);
