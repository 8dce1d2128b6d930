import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { IceServer } from '@rtc-sidecars/cli';
import { createTurnCredentials, TurnClient, TurnError } from '@rtc-sidecars/turn';
import type { ITurnServerResponse } from 'matrix-js-sdk';
import { within } from './livekit-participant.ts';
import type { Stack } from './stack.ts';

/** Outcome of one Allocate: success, or the STUN error code coturn answered with. */
export type AllocateOutcome = { readonly ok: true } | { readonly ok: false; readonly code: number };

/**
 * Allocates on the stack's coturn with a credential made by the same algorithm and secret as
 * Synapse's (`<expiry>:<mxid>`, HMAC-SHA1), but whose expiry lies `expiredSecondsAgo` in the past:
 * what a client holds when it reuses credentials fetched over an hour ago.
 */
export async function allocateWith(
  stack: Stack,
  options: { readonly user: string; readonly expiredSecondsAgo: number },
): Promise<AllocateOutcome> {
  const ttlSeconds = 3600;
  const credentials = createTurnCredentials({
    secret: stack.secrets.turnSecret,
    user: options.user,
    ttlSeconds,
    now: Date.now() - (ttlSeconds + options.expiredSecondsAgo) * 1000,
  });
  const client = await TurnClient.connect({ uri: stack.turnUri, ...credentials });
  try {
    await client.allocate();
    return { ok: true };
  } catch (err) {
    if (err instanceof TurnError && err.code !== undefined) return { ok: false, code: err.code };
    throw err;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Usernames coturn's log shows a successful Allocate for (it logs them with `verbose`). */
export function allocatedUsernames(log: string): string[] {
  return [...log.matchAll(/user <([^>]+)>: incoming packet ALLOCATE processed, success/g)].map(
    (m) => m[1] ?? '',
  );
}

/**
 * Allocates on the stack's coturn with one ICE server of LiveKit's join response, exactly as
 * handed out (its first URI, username and credential).
 */
export async function allocateWithIceServer(server: IceServer): Promise<AllocateOutcome> {
  const uri = server.urls[0];
  if (uri === undefined) throw new Error('an ICE server without URLs');
  const client = await TurnClient.connect({
    uri,
    username: server.username,
    password: server.credential,
  });
  try {
    await client.allocate();
    return { ok: true };
  } catch (err) {
    if (err instanceof TurnError && err.code !== undefined) return { ok: false, code: err.code };
    throw err;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Allocates a relay with `turn` (the body of Synapse's `/voip/turnServer`), sends `text` through
 * it to a UDP echo peer on loopback and returns what came back through the relay.
 */
export async function relayRoundTrip(turn: ITurnServerResponse, text: string): Promise<string> {
  const uri = turn.uris[0];
  if (uri === undefined) throw new Error('Synapse returned no TURN URI');
  const peer = createSocket('udp4');
  peer.on('message', (msg, from) => {
    peer.send(msg, from.port, from.address);
  });
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const client = await TurnClient.connect({
    uri,
    username: turn.username,
    password: turn.password,
  });
  try {
    await client.allocate();
    await client.createPermission('127.0.0.1');
    const echoed = new Promise<string>((resolve) => {
      client.onData((data) => {
        resolve(data.toString());
      });
    });
    const { port } = peer.address();
    await client.send({ family: 'IPv4', address: '127.0.0.1', port }, Buffer.from(text));
    return await within(5000, 'relayed echo', echoed);
  } finally {
    await client.close().catch(() => undefined);
    peer.close();
  }
}
