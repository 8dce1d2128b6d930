import {
  ContinualGatheringPolicy,
  IceTransportType,
  type RemoteParticipant,
  Room,
  RoomEvent,
  type RoomOptions,
} from '@livekit/rtc-node';
import { type IceServer, signalUrl, webSocketJoin } from '@rtc-sidecars/cli';

/**
 * Fails after `ms` with a message naming what was awaited. A guard against hanging forever on a
 * real network event, not a timing assertion: the waits are generous.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * RTC options that leave the client one way to reach the SFU: a relay on a TURN server. The ICE
 * server list is left empty, so `@livekit/rtc-node` (the LiveKit Rust SDK underneath) configures
 * its peer connections with the ICE servers of LiveKit's join response, exactly as Element Call
 * (livekit-client) does: the test hands the participant nothing but the URL and token. Host and
 * server-reflexive candidates are never gathered, so if media flows, it flowed through the TURN
 * server LiveKit named, with the credentials LiveKit signed.
 */
export function relayOnly(): Partial<RoomOptions> {
  return {
    rtcConfig: {
      iceTransportType: IceTransportType.TRANSPORT_RELAY,
      continualGatheringPolicy: ContinualGatheringPolicy.GATHER_CONTINUALLY,
      iceServers: [],
    },
  };
}

/**
 * The ICE servers LiveKit's join response hands a participant joining with `jwt`, read the way
 * `rtc-sidecars doctor` reads them (a signalling join, left at once). rtc-node does not expose
 * its own join response, so this is a separate join with the same token: the same servers and
 * the same kind of credentials (`<expiry>:<participant sid>`), signed for that join's sid.
 */
export async function joinResponseIceServers(
  url: string,
  jwt: string,
): Promise<{ participantSid: string; iceServers: readonly IceServer[] }> {
  const joined = await webSocketJoin(signalUrl(url, jwt), 10_000);
  if (!joined.ok) throw new Error(`LiveKit join failed: ${joined.detail}`);
  return { participantSid: joined.participantSid, iceServers: joined.iceServers };
}

/** Connects a real WebRTC participant (`@livekit/rtc-node`) with a JWT from the token service. */
export async function joinCall(
  url: string,
  jwt: string,
  options: Partial<RoomOptions> = {},
): Promise<Room> {
  const room = new Room();
  await room.connect(url, jwt, { autoSubscribe: true, dynacast: false, ...options });
  return room;
}

/** Resolves when `identity` is a remote participant of `room` (at once if it already is). */
export function seeParticipant(room: Room, identity: string): Promise<RemoteParticipant> {
  const present = room.remoteParticipants.get(identity);
  if (present) return Promise.resolve(present);
  return new Promise((resolve) => {
    const onJoin = (p: RemoteParticipant): void => {
      if (p.identity !== identity) return;
      room.off(RoomEvent.ParticipantConnected, onJoin);
      resolve(p);
    };
    room.on(RoomEvent.ParticipantConnected, onJoin);
  });
}

/** The next reliable data message on `topic`, with its sender's identity. */
export function nextMessage(room: Room, topic: string): Promise<{ text: string; from: string }> {
  return new Promise((resolve) => {
    const onData = (
      payload: Uint8Array,
      participant?: RemoteParticipant,
      _kind?: unknown,
      t?: string,
    ): void => {
      if (t !== topic) return;
      room.off(RoomEvent.DataReceived, onData);
      resolve({ text: new TextDecoder().decode(payload), from: participant?.identity ?? '' });
    };
    room.on(RoomEvent.DataReceived, onData);
  });
}

/** Sends a reliable data message on `topic` from `room`'s local participant. */
export async function sendMessage(room: Room, topic: string, text: string): Promise<void> {
  if (!room.localParticipant) throw new Error('not connected');
  await room.localParticipant.publishData(new TextEncoder().encode(text), {
    reliable: true,
    topic,
  });
}

/** ICE candidate types (`HOST`, `SRFLX`, `RELAY`, …) and TURN URLs the client used, from its RTC stats. */
export async function localCandidates(room: Room): Promise<{ types: string[]; urls: string[] }> {
  // The stats are protobuf messages; their JSON form is the stable thing to walk.
  const stats = JSON.parse(JSON.stringify(await room.getRtcStats())) as unknown;
  const types: string[] = [];
  const urls: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (typeof node === 'object' && node !== null) {
      const local = (node as { localCandidate?: { candidate?: Record<string, unknown> } })
        .localCandidate?.candidate;
      if (local) {
        if (typeof local.candidateType === 'string') types.push(local.candidateType);
        if (typeof local.url === 'string') urls.push(local.url);
      }
      Object.values(node).forEach(walk);
    }
  };
  walk(stats);
  return { types, urls };
}
