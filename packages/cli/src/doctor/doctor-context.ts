import type { checkTurnRelay } from '@rtc-sidecars/turn';
import type { Fetch } from './doctor-http.ts';

/** How doctor logs in: a password (doctor logs in and out again) or an existing access token. */
export type DoctorCredentials =
  { readonly user: string; readonly password: string } | { readonly accessToken: string };

/** What the operator asked for. */
export interface DoctorSettings {
  /** The Matrix server name users type into their client, e.g. `hi.example.org`. */
  readonly domain: string;
  readonly credentials?: DoctorCredentials;
  /** Accept `http://` and `ws://` URLs in the deployment's documents (LAN test set-ups). */
  readonly insecureHttp: boolean;
  /** Limit for each network exchange. */
  readonly timeoutMs: number;
  /** Check ids not to run (`--skip`); they are reported as skipped. */
  readonly skip?: readonly string[];
}

/** One ICE server of LiveKit's join response (`urls`, and TURN credentials if any). */
export interface IceServer {
  readonly urls: readonly string[];
  readonly username: string;
  readonly credential: string;
}

/** The outcome of a LiveKit signalling join attempt. */
export type SignalJoin =
  | {
      readonly ok: true;
      readonly detail: string;
      /** The participant LiveKit admitted (TURN usernames are `<expiry>:<sid>`). */
      readonly participantSid: string;
      /** The ICE servers the join response hands the participant: LiveKit's TURN servers. */
      readonly iceServers: readonly IceServer[];
    }
  | { readonly ok: false; readonly detail: string };

/** Everything doctor talks to the network through; tests inject fakes. */
export interface DoctorDeps {
  readonly fetch: Fetch;
  /** Opens LiveKit's signalling WebSocket at `url` and waits for the join response. */
  readonly signalJoin: (url: string, timeoutMs: number) => Promise<SignalJoin>;
  /** packages/turn's relay check (Allocate, permission, round trip through the relay). */
  readonly turnRelay: typeof checkTurnRelay;
  /** A random suffix for the probe room and status message. */
  readonly nonce: () => string;
  /** Waits, e.g. as a rate limit asks. */
  readonly sleep: (ms: number) => Promise<void>;
}

/** A Matrix session doctor uses for the checks that need a user. */
export interface Session {
  readonly accessToken: string;
  readonly userId: string;
  readonly deviceId: string;
  /** True when doctor logged in itself and must log out at the end. */
  readonly ownLogin: boolean;
}

/** What earlier checks found, for the later ones. */
export interface Findings {
  /** `m.homeserver.base_url` of the client document. */
  baseUrl?: string;
  /** LiveKit service URLs of `org.matrix.msc4143.rtc_foci`. */
  wellKnownFoci?: readonly string[];
  /** LiveKit service URLs of the transports endpoint. */
  transportFoci?: readonly string[];
  /** `m.server` of the server document, if served. */
  server?: string;
  session?: Session;
  /** The LiveKit URL and JWT livekit-jwt minted. */
  livekit?: { readonly url: string; readonly jwt: string };
  /** The ICE servers of LiveKit's join response (what Element Call relays through). */
  livekitIceServers?: readonly IceServer[];
  /** The homeserver's TURN credentials (`/voip/turnServer`). */
  turn?: TurnServer;
}

/** TURN credentials as the homeserver hands them to clients. */
export interface TurnServer {
  readonly username: string;
  readonly password: string;
  readonly uris: readonly string[];
  readonly ttl: number;
}

/** The settings, the network and the findings so far: the argument of every check. */
export interface DoctorContext {
  readonly settings: DoctorSettings;
  readonly deps: DoctorDeps;
  readonly found: Findings;
}

/** The LiveKit service URL checks use: the transports endpoint's first, else well-known's. */
export function focusUrl(found: Findings): string | undefined {
  return found.transportFoci?.[0] ?? found.wellKnownFoci?.[0];
}
