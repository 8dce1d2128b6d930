import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type Room,
  RoomEvent,
  type Track,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';

const RATE = 48_000;
const FRAME = RATE / 100; // 10 ms
/** Loud enough that Opus never turns it into silence, far above any codec noise floor. */
const AMPLITUDE = 8000;

/** A microphone track playing a 440 Hz tone until stopped. */
export interface Tone {
  stop(): Promise<void>;
}

/** Publishes a microphone track from `room` and keeps feeding it a tone (real-time paced by the SDK). */
export async function publishTone(room: Room): Promise<Tone> {
  if (!room.localParticipant) throw new Error('not connected');
  const source = new AudioSource(RATE, 1);
  const track = LocalAudioTrack.createAudioTrack('tone', source);
  await room.localParticipant.publishTrack(
    track,
    new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
  );
  const state = { running: true };
  const feed = (async () => {
    for (let t = 0; state.running; t += FRAME) {
      const frame = AudioFrame.create(RATE, 1, FRAME);
      for (let i = 0; i < FRAME; i++) {
        frame.data[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * 440 * (t + i)) / RATE));
      }
      // Resolves once the SDK's queue has room, which paces the loop to real time.
      await source.captureFrame(frame);
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await feed;
      await source.close();
    },
  };
}

/** The first audio track of `identity` that `room` subscribes to. */
function audioTrackOf(room: Room, identity: string): Promise<Track> {
  for (const publication of room.remoteParticipants.get(identity)?.trackPublications.values() ??
    []) {
    if (publication.kind === TrackKind.KIND_AUDIO && publication.track) {
      return Promise.resolve(publication.track);
    }
  }
  return new Promise((resolve) => {
    const onTrack = (
      track: RemoteTrack,
      _publication: RemoteTrackPublication,
      participant: RemoteParticipant,
    ): void => {
      if (participant.identity !== identity || track.kind !== TrackKind.KIND_AUDIO) return;
      room.off(RoomEvent.TrackSubscribed, onTrack);
      resolve(track);
    };
    room.on(RoomEvent.TrackSubscribed, onTrack);
  });
}

/**
 * Subscribes to `identity`'s audio in `room`, decodes it and resolves with the peak sample of the
 * first frame that carries sound (after Opus, a tone is never all zeros; silence would be).
 */
export async function hearSound(room: Room, identity: string): Promise<number> {
  const track = await audioTrackOf(room, identity);
  const reader = new AudioStream(track, RATE, 1).getReader();
  try {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) throw new Error(`audio of ${identity} ended before any sound`);
      const peak = frame.data.reduce((max, s) => Math.max(max, Math.abs(s)), 0);
      if (peak > AMPLITUDE / 4) return peak;
    }
  } finally {
    await reader.cancel();
  }
}
