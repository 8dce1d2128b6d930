import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { BlockList } from 'node:net';
import type { TransportAddress } from './stun-attributes.ts';
import { TurnClient, type TurnClientOptions } from './turn-client.ts';
import { TurnError } from './turn-error.ts';

/** Options of {@link checkTurnRelay}. */
export interface TurnRelayCheckOptions extends TurnClientOptions {
  readonly username: string;
  readonly password: string;
  /**
   * A UDP peer that echoes what it receives. Without one, the check plays the peer itself from
   * a plain UDP socket of this machine (see {@link checkTurnRelay}).
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
  /**
   * Set (with `ok: true`) when the relay was allocated but the round trip cannot be tested from
   * this machine, and why: it sits behind the same NAT as the relay's public address.
   */
  readonly roundTripUntestable?: string;
  readonly error?: TurnError;
}

// Addresses that say "this machine is inside a private network": loopback, RFC 1918, CGNAT,
// link-local, ULA.
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['127.0.0.0', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['fc00::', 7],
  ['fe80::', 10],
  ['::1', 128],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

const isPrivate = (a: TransportAddress): boolean =>
  PRIVATE.check(a.address, a.family === 'IPv6' ? 'ipv6' : 'ipv4');

/**
 * Why a probe that never came back proves nothing here, if so: this machine reaches
 * the relay's public address only through its own NAT (hairpin), which many routers lack.
 */
export function untestableFromHere(
  mapped: TransportAddress | undefined,
  relayed: TransportAddress,
): string | undefined {
  if (mapped === undefined || isPrivate(relayed)) return undefined;
  if (mapped.address === relayed.address) {
    return `this machine is the relay's own public address ${relayed.address} (hairpin NAT needed); run doctor from outside the network`;
  }
  if (isPrivate(mapped)) {
    return `coturn sees this machine at the private address ${mapped.address}, so reaching the relay's public address ${relayed.address} needs hairpin NAT; run doctor from outside the network`;
  }
  return undefined;
}

function waitFor(
  subscribe: (deliver: (from: TransportAddress) => void) => () => void,
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
    const stop = subscribe((from) => {
      clearTimeout(timer);
      stop();
      resolve(from);
    });
  });
}

/** A plain UDP socket of this machine playing the peer, for the relay's public side. */
async function openPeerSocket(relayed: TransportAddress): Promise<Socket> {
  const socket = createSocket(relayed.family === 'IPv6' ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  socket.bind(0);
  await once(socket, 'listening');
  return socket;
}

/**
 * Proves a TURN server works end to end with the given credentials: Allocate (through the 401
 * challenge), CreatePermission, a datagram round trip through the relay, and deallocation.
 * Meant for `rtc-sidecars doctor`; failures come back as `{ ok: false, step, error }`.
 *
 * Without a `peer`, a plain UDP socket of this machine plays the peer: it sends the probe to the
 * relayed address from outside, the TURN client receives it as a Data indication and sends it
 * back through the relay. The server only ever sends to this machine, never to its own public
 * address, so a coturn behind NAT without hairpinning passes. When this machine is itself
 * behind the relay's NAT (the probe then needs hairpinning on this side), a probe that does not
 * come back is reported as `roundTripUntestable`, not as a failure.
 */
export async function checkTurnRelay(options: TurnRelayCheckOptions): Promise<TurnRelayCheck> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const opened: TurnClient[] = [];
  let socket: Socket | undefined;
  let step: TurnRelayStep = 'connect';
  const partial: {
    protocol?: string;
    relayed?: TransportAddress;
    mapped?: TransportAddress;
    software?: string;
  } = {};
  const cleanUp = async (): Promise<void> => {
    socket?.close();
    socket = undefined;
    for (const c of opened.splice(0)) await c.close().catch(() => undefined);
  };
  try {
    const client = await TurnClient.connect(options);
    opened.push(client);
    partial.protocol = client.protocol;
    step = 'allocate';
    const allocation = await client.allocate();
    partial.relayed = allocation.relayed;
    if (allocation.mapped !== undefined) partial.mapped = allocation.mapped;
    if (client.software !== undefined) partial.software = client.software;
    const probe = randomBytes(16);

    step = 'permission';
    if (options.peer !== undefined) {
      const peer = options.peer;
      await client.createPermission(peer);
      step = 'relay';
      const back = waitFor(
        (deliver) =>
          client.onData((data, from) => {
            if (data.equals(probe)) deliver(from);
          }),
        timeoutMs,
      );
      const started = performance.now();
      await client.send(peer, probe);
      await back;
      const roundTripMs = performance.now() - started;
      await cleanUp();
      return { ok: true, step: 'done', ...partial, roundTripMs };
    }

    const self = await openPeerSocket(allocation.relayed);
    socket = self;
    // The socket's packets come from this machine's address as the server sees it.
    await client.createPermission(allocation.mapped ?? allocation.relayed.address);
    client.onData((data, from) => {
      if (data.equals(probe)) void client.send(from, data);
    });
    step = 'relay';
    const back = waitFor((deliver) => {
      const onMessage = (data: Buffer, from: { address: string; port: number }): void => {
        if (data.equals(probe) && from.port === allocation.relayed.port) {
          deliver(allocation.relayed);
        }
      };
      self.on('message', onMessage);
      return () => self.off('message', onMessage);
    }, timeoutMs);
    const started = performance.now();
    // UDP may drop a datagram: resent every quarter of the time limit, the first echo counts.
    const sendProbe = (): void => {
      self.send(probe, allocation.relayed.port, allocation.relayed.address);
    };
    const resend = setInterval(sendProbe, Math.max(50, timeoutMs / 4));
    sendProbe();
    try {
      await back;
    } finally {
      clearInterval(resend);
    }
    const roundTripMs = performance.now() - started;
    await cleanUp();
    return { ok: true, step: 'done', ...partial, roundTripMs };
  } catch (err) {
    const error =
      err instanceof TurnError ? err : new TurnError(String(err), { kind: 'protocol', cause: err });
    await cleanUp();
    const why =
      step === 'relay' && error.kind === 'timeout' && partial.relayed !== undefined
        ? untestableFromHere(partial.mapped, partial.relayed)
        : undefined;
    if (why !== undefined) return { ok: true, step: 'done', ...partial, roundTripUntestable: why };
    return { ok: false, step, ...partial, error };
  }
}
