import { randomBytes } from 'node:crypto';
import type { TransportAddress } from './stun-attributes.ts';
import { TurnClient, type TurnClientOptions } from './turn-client.ts';
import { TurnError } from './turn-error.ts';

/** Options of {@link checkTurnRelay}. */
export interface TurnRelayCheckOptions extends TurnClientOptions {
  readonly username: string;
  readonly password: string;
  /**
   * A UDP peer that echoes what it receives. Without one, a second allocation on the same
   * server plays the peer, which needs the server to allow relaying to its own relay addresses
   * (an `allowed-peer-ip` for its public IP).
   */
  readonly peer?: TransportAddress;
}

/** The step a relay check reached. */
export type TurnRelayStep = 'connect' | 'allocate' | 'permission' | 'relay' | 'done';

/** Outcome of {@link checkTurnRelay}; it never throws for what the server does. */
export interface TurnRelayCheck {
  readonly ok: boolean;
  /** The last step attempted (`done` when everything passed). */
  readonly step: TurnRelayStep;
  readonly protocol?: string;
  readonly relayed?: TransportAddress;
  readonly mapped?: TransportAddress;
  readonly software?: string;
  /** Milliseconds from sending the probe to receiving it back through the relay. */
  readonly roundTripMs?: number;
  readonly error?: TurnError;
}

function waitForData(
  client: TurnClient,
  probe: Buffer,
  timeoutMs: number,
): Promise<TransportAddress> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(
        new TurnError(`the probe did not come back through the relay within ${timeoutMs} ms`, {
          kind: 'timeout',
        }),
      );
    }, timeoutMs);
    const stop = client.onData((data, from) => {
      if (!data.equals(probe)) return;
      clearTimeout(timer);
      stop();
      resolve(from);
    });
  });
}

/**
 * Proves a TURN server works end to end with the given credentials: Allocate (through the 401
 * challenge), CreatePermission, a Send/Data round trip through the relay, and deallocation.
 * Meant for `rtc-sidecars doctor`; failures come back as `{ ok: false, step, error }`.
 */
export async function checkTurnRelay(options: TurnRelayCheckOptions): Promise<TurnRelayCheck> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const opened: TurnClient[] = [];
  let step: TurnRelayStep = 'connect';
  const partial: {
    protocol?: string;
    relayed?: TransportAddress;
    mapped?: TransportAddress;
    software?: string;
  } = {};
  try {
    const client = await TurnClient.connect(options);
    opened.push(client);
    partial.protocol = client.protocol;
    step = 'allocate';
    const allocation = await client.allocate();
    partial.relayed = allocation.relayed;
    if (allocation.mapped !== undefined) partial.mapped = allocation.mapped;
    if (client.software !== undefined) partial.software = client.software;

    let peer = options.peer;
    let echo: TurnClient | undefined;
    if (peer === undefined) {
      echo = await TurnClient.connect({ ...options, uri: options.uri });
      opened.push(echo);
      peer = (await echo.allocate()).relayed;
    }
    step = 'permission';
    await client.createPermission(peer);
    if (echo !== undefined) {
      const mirror = echo;
      await mirror.createPermission(allocation.relayed);
      mirror.onData((data, from) => void mirror.send(from, data));
    }
    step = 'relay';
    const probe = randomBytes(16);
    const back = waitForData(client, probe, timeoutMs);
    const started = performance.now();
    await client.send(peer, probe);
    await back;
    const roundTripMs = performance.now() - started;
    step = 'done';
    for (const c of opened.splice(0)) await c.close();
    return { ok: true, step, ...partial, roundTripMs };
  } catch (err) {
    const error =
      err instanceof TurnError ? err : new TurnError(String(err), { kind: 'protocol', cause: err });
    for (const c of opened) await c.close().catch(() => undefined);
    return { ok: false, step, ...partial, error };
  }
}
