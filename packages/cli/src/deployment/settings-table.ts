import { isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

import { UsageError } from '../cli-error.ts';
import { PORTS } from './deployment-settings.ts';
import { parsePublicAddress } from './public-address.ts';
import { parseServerName } from './server-name.ts';

/** Resolved setting values so far, by setting name; every value is its `.env` text. */
export type SettingValues = Readonly<Record<string, string>>;

/** What a setting's default and parser may look at besides the other settings. */
export interface SettingContext {
  /** The folder relative paths are resolved against (the operator's current folder). */
  readonly cwd: string;
  /** The repository checkout the CLI runs from, if it runs from one. */
  readonly checkout?: string;
  readonly uid: number;
  readonly gid: number;
  /** The `.env` as it was before this run (for defaults read from older files). */
  readonly previous: Readonly<Record<string, string>>;
}

/** Groups of `.env`, in file order; render-env-file writes a comment above each. */
export type SettingSection = 'server' | 'proxy' | 'scale' | 'ports' | 'build';

/**
 * One deployment setting: where it lives in `.env`, the `init` flag that sets it, its default
 * and how its text is checked. `.env` is the source of truth: a flag overrides it, an absent
 * key takes the default, and everything else `init` writes is rendered from these values.
 */
export interface SettingSpec {
  /** Name, also the flag (`--name`) unless `flag` is false. */
  readonly name: string;
  /** The `.env` keys holding it: one, or two for a `START-END` range. */
  readonly env: readonly [string] | readonly [string, string];
  readonly kind: 'text' | 'switch';
  /** False: set only in `.env` (no flag). */
  readonly flag?: false;
  /** `--help` text: value placeholder and meaning. */
  readonly value?: string;
  readonly help: string;
  readonly section: SettingSection;
  /** Default when neither a flag nor `.env` gives a value; `undefined` makes it required. */
  readonly fallback?: (v: SettingValues, ctx: SettingContext) => string | undefined;
  /**
   * Checks and normalises `text`; `label` names where it came from (`--turn-port` or
   * `TURN_PORT in /srv/rtc/.env`) for the one-line error. Throws {@link UsageError}.
   */
  readonly parse: (text: string, label: string, v: SettingValues, ctx: SettingContext) => string;
  /** Why changing an existing value needs `--force`; unset: a flag changes it freely. */
  readonly guard?: (from: string, to: string, envPath: string) => string;
}

function oneOf(...allowed: string[]): SettingSpec['parse'] {
  return (text, label) => {
    if (allowed.includes(text)) return text;
    throw new UsageError(`${label} must be one of ${allowed.join(', ')}, got "${text}"`);
  };
}

function port(text: string, label: string): string {
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535))
    throw new UsageError(`${label} must be a port 1-65535, got "${text}"`);
  return String(n);
}

function portRange(text: string, label: string): string {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (m === null || !(from >= 1 && to <= 65535 && from <= to)) {
    throw new UsageError(`${label} must be a port range START-END within 1-65535, got "${text}"`);
  }
  return `${from}-${to}`;
}

const onOff = oneOf('on', 'off');

function numericId(what: string): SettingSpec['parse'] {
  return (text, label) => {
    if (/^\d+$/.test(text)) return text;
    throw new UsageError(`${label} must be a numeric ${what} id, got "${text}"`);
  };
}
const range = (a: number, b: number): string => `${a}-${b}`;

/**
 * Every setting of a deployment, in resolution order (a default may read earlier settings).
 * Adding one is one entry here, plus reading it in `toDeploymentSettings` and using it in a
 * renderer: flags, `--help`, `.env` writing, keeping it on re-runs and reporting changes follow.
 */
export const SETTINGS: readonly SettingSpec[] = [
  {
    name: 'domain',
    env: ['SERVER_NAME'],
    kind: 'text',
    value: 'NAME',
    help: 'Matrix server name, e.g. hi.example.org (permanent)',
    section: 'server',
    parse: (text, label) => parseServerName(text, label),
    guard: (from, to, envPath) =>
      `${envPath} belongs to "${from}", not "${to}"; a server name is permanent (use --force to start over)`,
  },
  {
    name: 'allow-private-ip',
    env: ['ALLOW_PRIVATE_IP'],
    kind: 'switch',
    help: 'accept a private, loopback or documentation --external-ip (lab and test set-ups only)',
    section: 'server',
    fallback: () => 'off',
    parse: onOff,
  },
  {
    name: 'external-ip',
    env: ['EXTERNAL_IP'],
    kind: 'text',
    value: 'IP',
    help: 'public IPv4/IPv6 address of this host (LiveKit and coturn advertise it)',
    section: 'server',
    parse: (text, label, v) =>
      parsePublicAddress(text, { label, allowPrivate: v['allow-private-ip'] === 'on' }),
  },
  {
    name: 'turn-host',
    env: ['TURN_HOST'],
    kind: 'text',
    value: 'NAME',
    help: 'host name in the TURN URIs and coturn realm, default the --domain',
    section: 'server',
    fallback: (v) => v.domain,
    parse: (text, label) => parseServerName(text, label),
  },
  {
    name: 'federation',
    env: ['FEDERATION'],
    kind: 'text',
    value: 'on|off',
    help: 'default on; "off" refuses every remote server but keeps calls working',
    section: 'server',
    fallback: () => 'on',
    parse: onOff,
  },
  {
    name: 'registration',
    env: ['REGISTRATION'],
    kind: 'text',
    value: 'open|token|off',
    help: 'default token (a generated registration token)',
    section: 'server',
    fallback: () => 'token',
    parse: oneOf('open', 'token', 'off'),
  },
  {
    name: 'proxy',
    env: ['PROXY'],
    kind: 'text',
    value: 'external|standalone',
    help: "default external: an existing Traefik (Runtipi) on --traefik-network; standalone: the bundled Traefik with Let's Encrypt",
    section: 'proxy',
    fallback: () => 'external',
    parse: oneOf('external', 'standalone'),
    guard: (from, to) =>
      `--proxy ${to} switches this deployment from the ${from} proxy: stop it first (docker compose down), then run init again with --force`,
  },
  {
    name: 'traefik-network',
    env: ['TRAEFIK_NETWORK'],
    kind: 'text',
    value: 'NAME',
    help: 'default runtipi_tipi_main_network (external) or rtc-sidecars-proxy (standalone)',
    section: 'proxy',
    fallback: (v) =>
      v.proxy === 'standalone' ? 'rtc-sidecars-proxy' : 'runtipi_tipi_main_network',
    parse: (text, label) => {
      if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(text)) return text;
      throw new UsageError(`${label} "${text}" is not a Docker network name`);
    },
  },
  {
    name: 'trusted-proxy',
    env: ['TRUSTED_PROXY'],
    kind: 'text',
    value: 'LIST',
    help: "whose X-Forwarded-For livekit-jwt believes: the proxy's container name on the Traefik network, plus addresses or CIDRs, comma-separated; default traefik (standalone) or runtipi-reverse-proxy (external)",
    section: 'proxy',
    fallback: (v) => (v.proxy === 'standalone' ? 'traefik' : 'runtipi-reverse-proxy'),
    parse: (text, label) => {
      const items = text.split(',').map((item) => item.trim());
      if (items.every((item) => /^[a-zA-Z0-9][a-zA-Z0-9_.:/-]*$/.test(item)))
        return items.join(',');
      throw new UsageError(
        `${label} "${text}" is not a comma-separated list of host names, addresses or CIDRs`,
      );
    },
  },
  {
    name: 'acme-email',
    env: ['ACME_EMAIL'],
    kind: 'text',
    value: 'ADDRESS',
    help: "Let's Encrypt account e-mail (required with --proxy standalone)",
    section: 'proxy',
    fallback: () => '',
    parse: (text, label) => {
      if (text === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return text;
      throw new UsageError(`${label} "${text}" is not an e-mail address`);
    },
  },
  {
    name: 'scale',
    env: ['SCALE'],
    kind: 'switch',
    help: 'add compose.scale.yaml: Redis, LiveKit multi-node, two livekit-jwt replicas (--no-scale: back to one)',
    section: 'scale',
    // Files written before SCALE existed said so only through COMPOSE_FILE.
    fallback: (_v, ctx) =>
      (ctx.previous.COMPOSE_FILE ?? '').includes('compose.scale.yaml') ? 'on' : 'off',
    parse: onOff,
  },
  {
    name: 'https-port',
    env: ['HTTPS_PORT'],
    kind: 'text',
    value: 'PORT',
    help: `host port of the bundled Traefik's HTTPS (standalone), default ${PORTS.https}; clients still use 443, so forward 443 to it`,
    section: 'ports',
    fallback: () => String(PORTS.https),
    parse: port,
  },
  {
    name: 'http-port',
    env: ['HTTP_PORT'],
    kind: 'text',
    value: 'PORT',
    help: `host port of the bundled Traefik's HTTP (standalone), default ${PORTS.http}`,
    section: 'ports',
    fallback: () => String(PORTS.http),
    parse: port,
  },
  {
    name: 'livekit-tcp-port',
    env: ['LIVEKIT_RTC_TCP_PORT'],
    kind: 'text',
    value: 'PORT',
    help: `LiveKit ICE over TCP, default ${PORTS.livekitTcp}`,
    section: 'ports',
    fallback: () => String(PORTS.livekitTcp),
    parse: port,
  },
  {
    name: 'livekit-udp-ports',
    env: ['LIVEKIT_RTC_UDP_PORT_START', 'LIVEKIT_RTC_UDP_PORT_END'],
    kind: 'text',
    value: 'START-END',
    help: `LiveKit media (UDP), default ${range(PORTS.livekitUdpStart, PORTS.livekitUdpEnd)}`,
    section: 'ports',
    fallback: () => range(PORTS.livekitUdpStart, PORTS.livekitUdpEnd),
    parse: portRange,
  },
  {
    name: 'turn-port',
    env: ['TURN_PORT'],
    kind: 'text',
    value: 'PORT',
    help: `coturn's TURN port (UDP and TCP), default ${PORTS.turn}`,
    section: 'ports',
    fallback: () => String(PORTS.turn),
    parse: port,
  },
  {
    name: 'turn-relay-ports',
    env: ['TURN_RELAY_PORT_MIN', 'TURN_RELAY_PORT_MAX'],
    kind: 'text',
    value: 'MIN-MAX',
    help: `coturn's relay range (UDP), default ${range(PORTS.turnRelayMin, PORTS.turnRelayMax)}`,
    section: 'ports',
    fallback: () => range(PORTS.turnRelayMin, PORTS.turnRelayMax),
    parse: portRange,
  },
  {
    name: 'source',
    env: ['RTC_SIDECARS_SRC'],
    kind: 'text',
    value: 'DIR',
    help: 'build the two rtc-sidecars images from this checkout instead of pulling the published ones ("" for the published images); default the checkout init runs from, if any',
    section: 'build',
    fallback: (_v, ctx) => ctx.checkout ?? '',
    parse: (text, label, _v, ctx) => {
      if (text === '') return '';
      const dir = isAbsolute(text) ? text : resolve(ctx.cwd, text);
      if (!existsSync(join(dir, 'docker', 'service.Dockerfile'))) {
        throw new UsageError(
          `${label} "${text}" is not a checkout of rtc-sidecars (no docker/service.Dockerfile)`,
        );
      }
      return dir;
    },
  },
  {
    name: 'uid',
    env: ['RTC_UID'],
    kind: 'text',
    flag: false,
    help: 'user id the stock containers run as (owner of the deployment folder)',
    section: 'build',
    fallback: (_v, ctx) => String(ctx.uid),
    parse: numericId('user'),
  },
  {
    name: 'gid',
    env: ['RTC_GID'],
    kind: 'text',
    flag: false,
    help: 'group id the stock containers run as',
    section: 'build',
    fallback: (_v, ctx) => String(ctx.gid),
    parse: numericId('group'),
  },
];

/** A setting's value as `.env` holds it: one key, or `START-END` joined from two. */
export function envText(
  spec: SettingSpec,
  env: Readonly<Record<string, string>>,
): string | undefined {
  const parts = spec.env.map((k) => env[k]);
  if (parts.some((p) => p === undefined)) return undefined;
  return parts.length === 2 ? `${parts[0] ?? ''}-${parts[1] ?? ''}` : parts[0];
}

/** The `.env` lines of a setting value. */
export function envEntries(spec: SettingSpec, text: string): [string, string][] {
  if (spec.env.length === 1) return [[spec.env[0], text]];
  const [from = '', to = ''] = text.split('-');
  return [
    [spec.env[0], from],
    [spec.env[1], to],
  ];
}
