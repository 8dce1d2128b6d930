import { composeFiles, type DeploymentSettings, PORTS } from '../deployment/deployment-settings.ts';
import { formatEnvFile, type EnvSection } from '../deployment/env-file.ts';
import { SECRET_KEYS } from '../deployment/secrets.ts';

/**
 * The deployment's `.env`: the single source of truth that compose.yaml interpolates and that
 * `init` re-reads on the next run. Written with mode 0600 because it holds every secret.
 */
export function renderEnvFile(s: DeploymentSettings): string {
  const secrets: [string, string][] = [];
  for (const key of SECRET_KEYS) {
    const value = s.secrets[key];
    if (value !== undefined) secrets.push([key, value]);
  }
  const sections: EnvSection[] = [
    {
      comment: ['The Matrix server name. It is permanent: changing it means a new homeserver.'],
      entries: [
        ['SERVER_NAME', s.serverName],
        ['EXTERNAL_IP', s.externalIp],
        ['TURN_HOST', s.turnHost],
        ['FEDERATION', s.federation],
        ['REGISTRATION', s.registration],
      ],
    },
    {
      comment: [
        'Reverse proxy. "external": an existing Traefik (Runtipi) on TRAEFIK_NETWORK.',
        '"standalone": the bundled Traefik with Let\'s Encrypt (COMPOSE_PROFILES=standalone).',
        "TRUSTED_PROXY: whose X-Forwarded-For livekit-jwt believes: the proxy's container or",
        'service name on TRAEFIK_NETWORK (another Traefik: its name), plus addresses or CIDRs,',
        'comma-separated, to widen it.',
      ],
      entries: [
        ['PROXY', s.proxy],
        ['COMPOSE_PROFILES', s.proxy === 'standalone' ? 'standalone' : ''],
        ['TRAEFIK_NETWORK', s.traefikNetwork],
        ['ACME_EMAIL', s.acmeEmail],
        // livekit-jwt believes X-Forwarded-For from this proxy only (LIVEKIT_JWT_TRUST_PROXY).
        ['TRUSTED_PROXY', s.proxy === 'standalone' ? 'traefik' : 'runtipi-reverse-proxy'],
      ],
    },
    ...(s.scale
      ? [
          {
            comment: [
              'Scale mode (`init --scale`): compose reads compose.scale.yaml too (Redis, LiveKit',
              'multi-node, several livekit-jwt replicas); see "Growing past one machine".',
            ],
            entries: [['COMPOSE_FILE', composeFiles(true).join(':')] as const],
          },
        ]
      : []),
    {
      comment: [
        'Ports published on the host. livekit.yaml and turnserver.conf use the same numbers;',
        'run `rtc-sidecars check` after editing any of them.',
      ],
      entries: [
        ['LIVEKIT_RTC_TCP_PORT', String(PORTS.livekitTcp)],
        ['LIVEKIT_RTC_UDP_PORT_START', String(PORTS.livekitUdpStart)],
        ['LIVEKIT_RTC_UDP_PORT_END', String(PORTS.livekitUdpEnd)],
        ['TURN_PORT', String(PORTS.turn)],
        ['TURN_RELAY_PORT_MIN', String(PORTS.turnRelayMin)],
        ['TURN_RELAY_PORT_MAX', String(PORTS.turnRelayMax)],
      ],
    },
    {
      comment: [
        'Build context of the two rtc-sidecars images, and the user the containers run as',
        '(owner of this folder, so they can read the 0600 config files).',
      ],
      entries: [
        ['RTC_SIDECARS_SRC', s.sourceDir],
        ['RTC_UID', String(s.uid)],
        ['RTC_GID', String(s.gid)],
      ],
    },
    {
      comment: [
        'Secrets, generated from a CSPRNG. Re-running `rtc-sidecars init` keeps them;',
        '`init --force` replaces them and keeps the old file as .env.bak-<time>.',
      ],
      entries: secrets,
    },
  ];
  return formatEnvFile(
    ['rtc-sidecars deployment, written by `rtc-sidecars init`. Keep this file private (0600).'],
    sections,
  );
}
