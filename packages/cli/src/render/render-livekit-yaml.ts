import { type DeploymentSettings, PORTS } from '../deployment/deployment-settings.ts';

/**
 * LiveKit's `livekit.yaml` (the secret is quoted: a YAML plain scalar of digits would become a
 * number). It carries the API key and secret (LiveKit reads keys only from its
 * config or `LIVEKIT_KEYS`), so it is written 0600 like `.env`.
 */
export function renderLivekitYaml(s: DeploymentSettings): string {
  const key = s.secrets.LIVEKIT_KEY ?? '';
  const secret = s.secrets.LIVEKIT_SECRET ?? '';
  return `# LiveKit SFU configuration, written by \`rtc-sidecars init\` from .env.
# Re-running init rewrites this file from .env; edit .env (or keep hand edits and run
# \`rtc-sidecars check\`). Holds the LiveKit API secret: keep it private (0600).
port: ${PORTS.livekitHttp}
bind_addresses:
  - 0.0.0.0
rtc:
  # Media bypasses Traefik: 7881/tcp and the UDP range are published on the host.
  tcp_port: ${PORTS.livekitTcp}
  port_range_start: ${PORTS.livekitUdpStart}
  port_range_end: ${PORTS.livekitUdpEnd}
  # Behind Docker's NAT the container would advertise a 172.x address. Advertise the public
  # address explicitly; use_external_ip (STUN discovery) stays off, never both at once.
  use_external_ip: false
  node_ip: ${s.externalIp}
  enable_loopback_candidate: false
room:
  # Only livekit-jwt creates rooms, and only for users of full-access homeservers.
  auto_create: false
keys:
  ${key}: ${JSON.stringify(secret)}
logging:
  level: info
`;
}
