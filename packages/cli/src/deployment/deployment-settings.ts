import { UsageError } from '../cli-error.ts';
import { type SecretKey } from './secrets.ts';

/** How the homeserver federates. `off` still keeps the federation router up, see the TOML. */
export type Federation = 'on' | 'off';
/** Who may register: anyone, holders of the generated token, or nobody. */
export type Registration = 'open' | 'token' | 'off';
/** Which Traefik routes traffic: an existing one on a shared network, or the bundled one. */
export type ProxyMode = 'external' | 'standalone';

/** Fixed ports of the bundle. Media ports bypass the proxy, so each must be opened. */
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

/** Everything `init` needs, validated. Every generated file is derived from this alone. */
export interface DeploymentSettings {
  readonly serverName: string;
  readonly externalIp: string;
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
  /** Folder holding the repository (the Docker build context of our two images). */
  readonly sourceDir: string;
  readonly uid: number;
  readonly gid: number;
  readonly secrets: Readonly<Partial<Record<SecretKey, string>>>;
}

/** Secrets a deployment with these choices needs. */
export function wantedSecrets(registration: Registration, scale: boolean): SecretKey[] {
  const keys: SecretKey[] = ['TURN_SECRET', 'LIVEKIT_KEY', 'LIVEKIT_SECRET'];
  if (registration === 'token') keys.push('REGISTRATION_TOKEN');
  if (scale) keys.push('REDIS_PASSWORD');
  return keys;
}

/** The compose files of a deployment, in merge order, as COMPOSE_FILE lists them. */
export function composeFiles(scale: boolean): string[] {
  return scale ? ['compose.yaml', 'compose.scale.yaml'] : ['compose.yaml'];
}

/** Parses one of a fixed set of flag values, or throws a one-line {@link UsageError}. */
export function oneOfFlag<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
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
export function deriveUrls(s: Pick<DeploymentSettings, 'serverName' | 'turnHost'>): DerivedUrls {
  return {
    homeserverBaseUrl: `https://${s.serverName}`,
    federationServer: `${s.serverName}:443`,
    livekitServiceUrl: `https://${s.serverName}/livekit-jwt`,
    livekitPublicUrl: `wss://${s.serverName}/livekit/sfu`,
    livekitInternalUrl: `http://livekit:${PORTS.livekitHttp}`,
    homeserverInternalUrl: `http://continuwuity:${PORTS.homeserver}`,
    turnUris: [
      `turn:${s.turnHost}:${PORTS.turn}?transport=udp`,
      `turn:${s.turnHost}:${PORTS.turn}?transport=tcp`,
    ],
  };
}
