import type { Room, RoomOptions } from '@livekit/rtc-node';
import type { SfuConfig } from './element-call.ts';
import { joinCall } from './livekit-participant.ts';
import type { LoggedIn } from './matrix-login.ts';
import type { Stack } from './stack.ts';
import { Timings } from './timings.ts';

/** How long to wait for one network event (participant, message, audio) before giving up. */
export const WAIT_MS = 20_000;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}: an earlier step failed`);
  return value;
}

/**
 * What the steps of the suite hand to each other: the stack, the two users, their room and
 * LiveKit JWTs. A value a failed earlier step never set fails the next step with a message
 * saying so, rather than with an undefined property deep in a client library.
 */
export class CallContext {
  readonly timings = new Timings();
  /** Undone in reverse order after the suite, whatever failed. */
  readonly cleanup: (() => unknown)[] = [];
  readonly rooms: Room[] = [];
  #stack: Stack | undefined;
  #alice: LoggedIn | undefined;
  #bob: LoggedIn | undefined;
  #roomId: string | undefined;
  readonly #sfu = new Map<string, SfuConfig>();

  get stack(): Stack {
    return need(this.#stack, 'stack');
  }
  set stack(value: Stack) {
    this.#stack = value;
  }
  get alice(): LoggedIn {
    return need(this.#alice, 'alice');
  }
  set alice(value: LoggedIn) {
    this.#alice = value;
  }
  get bob(): LoggedIn {
    return need(this.#bob, 'bob');
  }
  set bob(value: LoggedIn) {
    this.#bob = value;
  }
  get roomId(): string {
    return need(this.#roomId, 'room');
  }
  set roomId(value: string) {
    this.#roomId = value;
  }

  /** The LiveKit JWT (from `/get_token`) of one user. */
  sfu(user: LoggedIn): SfuConfig {
    return need(this.#sfu.get(user.userId), `LiveKit JWT of ${user.userId}`);
  }
  setSfu(user: LoggedIn, config: SfuConfig): void {
    this.#sfu.set(user.userId, config);
  }

  /** Runs one hop of the call path and records its wall-clock time. */
  hop<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.timings.measure(name, fn);
  }

  /**
   * Connects a LiveKit participant (timed as a hop) that is disconnected after the suite.
   * `retries` extra attempts are made after an ICE timeout, each reported on stderr: on a loaded
   * sandbox livekit-server occasionally ignores every connectivity check of one peer connection
   * (seen with relayed candidates, about one connect in thirty); a fresh connection is not
   * affected. Success still needs coturn: the retry uses the same relay-only settings.
   */
  async join(
    name: string,
    config: SfuConfig,
    options: Partial<RoomOptions> = {},
    retries = 0,
  ): Promise<Room> {
    const room = await this.hop(name, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await joinCall(config.url, config.jwt, options);
        } catch (err) {
          if (attempt >= retries || !/timed out/i.test(String(err))) throw err;
          console.warn(`${name}: ${String(err)}; retrying with a fresh connection`);
        }
      }
    });
    this.rooms.push(room);
    return room;
  }
}
