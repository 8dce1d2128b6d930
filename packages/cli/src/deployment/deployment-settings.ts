import { type SecretKey } from './secrets.ts';

/** How the homeserver federates. `off` still keeps the federation router up, see the TOML. */
export type Federation = 'on' | 'off';
/** Who may register: anyone, holders of the generated token, or nobody. */
export type Registration = 'open' | 'token' | 'off';
/** Which Traefik routes traffic: an existing one on a shared network, or the bundled one. */
export type ProxyMode = 'external' | 'standalone';

/**
 * Default and internal ports of the bundle. The published ones are settings (`init --turn-port`
 * etc.); media ports bypass the proxy, so each must be opened.
 */
export const PORTS = Object.freeze({
  https: 443,
  http: 80,
  homeserver: 8008,
  sidecar: 8080,
  livekitHttp: 7880,
  livekitTcp: 7881,
  // A small LiveKit range: large published UDP ranges start slowly in Docker bridge mode.
  livekitUdpStart: 50100,
  livekitUdpEnd: 50200,
  turn: 3478,
  turnTls: 5349,
  // coturn's relay range, kept clear of LiveKit's so the two never fight over a port.
  turnRelayMin: 49160,
  turnRelayMax: 49200,
});

/** An inclusive port range. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** The ports a deployment publishes on the host (`init`'s port flags, `.env`). */
export interface DeploymentPorts {
  /** Host ports of the bundled Traefik (standalone proxy). */
  readonly https: number;
  readonly http: number;
  readonly livekitTcp: number;
  readonly livekitUdp: PortRange;
  /** coturn's listening port, UDP and TCP (host networking). */
  readonly turn: number;
  readonly turnRelay: PortRange;
}

/**
 * Everything the renderers need, validated: built from the resolved `.env` values (see
 * settings-table.ts) and the secrets. Every generated file is derived from this alone.
 */
export interface DeploymentSettings {
  readonly serverName: string;
  readonly externalIp: string;
  /** The operator accepted a non-public EXTERNAL_IP (lab or test set-up). */
  readonly allowPrivateIp: boolean;
  readonly turnHost: string;
  readonly federation: Federation;
  readonly registration: Registration;
  readonly proxy: ProxyMode;
  readonly acmeEmail: string;
  /** Name of the Docker network Traefik and the routed services share. */
  readonly traefikNetwork: string;
  /**
   * Scale mode: compose.scale.yaml (Redis, LiveKit multi-node, several livekit-jwt replicas)
   * joins compose.yaml through COMPOSE_FILE, and livekit.yaml gets a `redis:` section.
   */
  readonly scale: boolean;
  readonly ports: DeploymentPorts;
  /** Checkout the two rtc-sidecars images are built from; empty: the published images. */
  readonly sourceDir: string;
  readonly uid: number;
  readonly gid: number;
  readonly secrets: Readonly<Partial<Record<SecretKey, string>>>;
}

/** The compose files of a deployment, in merge order, as COMPOSE_FILE lists them. */
export function composeFiles(scale: boolean): string[] {
  return scale ? ['compose.yaml', 'compose.scale.yaml'] : ['compose.yaml'];
}

/** Public URLs and internal addresses, all derived from the server name. */
export interface DerivedUrls {
  readonly homeserverBaseUrl: string;
  /** `m.server` delegation target. */
  readonly federationServer: string;
  /** The `livekit_service_url` shared by the homeserver foci and the well-known service. */
  readonly livekitServiceUrl: string;
  /** What clients connect to: LiveKit's WebSocket behind Traefik. */
  readonly livekitPublicUrl: string;
  readonly livekitInternalUrl: string;
  readonly homeserverInternalUrl: string;
  readonly turnUris: readonly string[];
}

/** Derives the URLs every file shares, so that they cannot drift apart. */
export function deriveUrls(
  s: Pick<DeploymentSettings, 'serverName' | 'turnHost'> & {
    readonly ports?: Pick<DeploymentPorts, 'turn'>;
  },
): DerivedUrls {
  const turnPort = s.ports?.turn ?? PORTS.turn;
  return {
    homeserverBaseUrl: `https://${s.serverName}`,
    federationServer: `${s.serverName}:443`,
    livekitServiceUrl: `https://${s.serverName}/livekit-jwt`,
    livekitPublicUrl: `wss://${s.serverName}/livekit/sfu`,
    livekitInternalUrl: `http://livekit:${PORTS.livekitHttp}`,
    homeserverInternalUrl: `http://continuwuity:${PORTS.homeserver}`,
    turnUris: [
      `turn:${s.turnHost}:${turnPort}?transport=udp`,
      `turn:${s.turnHost}:${turnPort}?transport=tcp`,
    ],
  };
}
