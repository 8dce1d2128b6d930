import { type DeploymentSettings } from './deployment-settings.ts';

/** `text` quoted for a POSIX shell when it needs it, so printed commands paste as they are. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

const span = (r: { from: number; to: number }): string =>
  r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;

/**
 * What the operator must do outside the machine after `init`: DNS, firewall, and the commands
 * that start and check everything. Printed by `init`, derived from the same settings as the
 * files. `self` is how this CLI was started (`rtc-sidecars` once installed), so every command
 * works as printed.
 */
export function operatorNotes(s: DeploymentSettings, outDir: string, self: string): string[] {
  const family = s.externalIp.includes(':') ? 'AAAA' : 'A';
  const dns = [`  ${s.serverName}  ${family}  ${s.externalIp}`];
  if (s.turnHost !== s.serverName) dns.push(`  ${s.turnHost}  ${family}  ${s.externalIp}`);
  const dir = shellQuote(outDir);
  const p = s.ports;
  const standalone = s.proxy === 'standalone';
  // With a checkout named in RTC_SIDECARS_SRC the two rtc-sidecars images are built from it.
  const up = s.sourceDir === '' ? 'docker compose up -d' : 'docker compose up -d --build';
  const forwarded = (host: number, public_: number, what: string): string =>
    host === public_
      ? `  ${`${host}/tcp`.padEnd(20)}${what}`
      : `  ${`${public_}/tcp`.padEnd(20)}${what} (forward it to host port ${host})`;
  return [
    'DNS records to create:',
    ...dns,
    '',
    'Ports to open on the firewall (media bypasses the proxy):',
    standalone
      ? forwarded(p.https, 443, 'HTTPS: homeserver, well-known, livekit-jwt, LiveKit signalling')
      : `  ${'443/tcp'.padEnd(20)}HTTPS (your Traefik): homeserver, well-known, livekit-jwt, LiveKit signalling`,
    ...(standalone ? [forwarded(p.http, 80, "HTTP: Let's Encrypt challenge and redirect")] : []),
    `  ${`${p.turn}/udp, ${p.turn}/tcp`.padEnd(20)}TURN (coturn)`,
    `  ${`${span(p.turnRelay)}/udp`.padEnd(20)}TURN relay range`,
    `  ${`${p.livekitTcp}/tcp`.padEnd(20)}LiveKit ICE over TCP`,
    `  ${`${span(p.livekitUdp)}/udp`.padEnd(20)}LiveKit media`,
    '',
    'Next:',
    ...(standalone ? [`  docker network create ${s.traefikNetwork}   # once`] : []),
    `  cd ${dir} && ${up}`,
    ...(s.scale
      ? [
          '  # COMPOSE_FILE in .env adds compose.scale.yaml: Redis and two livekit-jwt replicas;',
          '  # `docker compose up -d --scale livekit-jwt=N` runs another count',
        ]
      : []),
    `  ${self} doctor ${dir}   # live checks once it is up`,
    '',
    `After editing ${shellQuote(`${outDir}/.env`)} (or any file), re-render and check:`,
    `  ${self} init ${dir}`,
    `  ${self} check ${dir}`,
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
