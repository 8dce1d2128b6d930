import { type DeploymentSettings, PORTS } from './deployment-settings.ts';

/**
 * What the operator must do outside the machine after `init`: DNS, firewall, and the command
 * that starts everything. Printed by `init`, derived from the same settings as the files.
 */
export function operatorNotes(s: DeploymentSettings, outDir: string): string[] {
  const family = s.externalIp.includes(':') ? 'AAAA' : 'A';
  const dns = [`  ${s.serverName}  ${family}  ${s.externalIp}`];
  if (s.turnHost !== s.serverName) dns.push(`  ${s.turnHost}  ${family}  ${s.externalIp}`);
  const start =
    s.proxy === 'standalone'
      ? [
          `  docker network create ${s.traefikNetwork}   # once`,
          `  cd ${outDir} && docker compose up -d --build`,
        ]
      : [`  cd ${outDir} && docker compose up -d --build`];
  return [
    'DNS records to create:',
    ...dns,
    '',
    'Ports to open on the firewall (media bypasses the proxy):',
    `  ${PORTS.https}/tcp            HTTPS: homeserver, well-known, livekit-jwt, LiveKit signalling`,
    ...(s.proxy === 'standalone'
      ? [`  ${PORTS.http}/tcp             HTTP: Let's Encrypt challenge and redirect`]
      : []),
    `  ${PORTS.turn}/udp, ${PORTS.turn}/tcp  TURN (coturn)`,
    `  ${PORTS.turnTls}/tcp           TURN over TLS, only once coturn is given a certificate`,
    `  ${PORTS.turnRelayMin}-${PORTS.turnRelayMax}/udp    TURN relay range`,
    `  ${PORTS.livekitTcp}/tcp           LiveKit ICE over TCP`,
    `  ${PORTS.livekitUdpStart}-${PORTS.livekitUdpEnd}/udp    LiveKit media`,
    '',
    'Next:',
    ...start,
    ...(s.scale
      ? [
          '  (COMPOSE_FILE in .env adds compose.scale.yaml: Redis and two livekit-jwt replicas;',
          '   `docker compose up -d --scale livekit-jwt=N` runs another count)',
        ]
      : []),
    `  rtc-sidecars doctor ${outDir}   # live checks once it is up`,
    '',
    ...firstAccount(s),
  ];
}

/**
 * continuwuity's first-run rule: on a fresh database it accepts only a one-time token it prints
 * at start (a new one each start) until the first account, which becomes the admin, exists;
 * the configured registration token works from then on.
 */
function firstAccount(s: DeploymentSettings): string[] {
  return [
    'First account (it becomes the admin): on a fresh database continuwuity accepts only the',
    'one-time registration token it prints at start, until that account exists:',
    '  docker compose logs continuwuity | grep "using the registration token"',
    ...(s.registration === 'token'
      ? ['Everyone after that registers with REGISTRATION_TOKEN from .env.']
      : s.registration === 'off'
        ? ['After that registration is closed again (--registration off).']
        : []),
  ];
}
