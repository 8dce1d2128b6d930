import { isAbsolute, join } from 'node:path';
import { isIP } from 'node:net';
import { DENIED_PEER_IP_RANGES } from './denied-peer-ips.ts';

/** Settings for {@link renderTurnserverConf}; everything but realm and secrets has a default. */
export interface TurnserverSettings {
  /** The REST-API realm; it also goes into every 401 challenge. */
  readonly realm: string;
  /** Shared secrets, current first. During a rotation list the old one too: coturn accepts any. */
  readonly secrets: readonly string[];
  /** Plain STUN/TURN port (UDP and TCP). Default 3478. */
  readonly listeningPort?: number;
  /** TURN-over-TLS port, used only with {@link TurnserverSettings.tls}. Default 5349. */
  readonly tlsListeningPort?: number;
  /** Certificate and key files; without them TLS and DTLS are switched off. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Public address, or `public/private` when coturn runs behind NAT. */
  readonly externalIp?: string;
  readonly listeningIps?: readonly string[];
  readonly relayIps?: readonly string[];
  /** Relay port range. Default 49152–65535. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  readonly serverName?: string;
  /** Concurrent allocations per user (default 12) and in total (default 1200). */
  readonly userQuota?: number;
  readonly totalQuota?: number;
  /** Bytes per second per session; 0 (default) means unlimited. */
  readonly maxBps?: number;
  /** Nonce lifetime in seconds. Default 600. */
  readonly staleNonceSeconds?: number;
  /** Exceptions to the deny list, e.g. the server's own public IP for TURN-to-TURN flows. */
  readonly allowedPeerIps?: readonly string[];
  /** `stdout` (default, for containers) or a file path. */
  readonly logFile?: string;
  readonly pidFile?: string;
  readonly userDb?: string;
  readonly verbose?: boolean;
  /**
   * Tests only: listen and relay on 127.0.0.1 and keep pid, log and database files in `workDir`,
   * so coturn runs unprivileged. `allowLoopbackPeers` adds `allow-loopback-peers` plus an
   * `allowed-peer-ip` for 127.0.0.1 alone; the deny list stays. Never use this in production.
   */
  readonly testOnly?: { readonly workDir: string; readonly allowLoopbackPeers: boolean };
}

/** Settings {@link renderTurnserverConf} refuses, every problem listed. */
export class TurnserverConfError extends Error {
  public readonly problems: readonly string[];

  public constructor(problems: readonly string[]) {
    super(`Invalid coturn settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TurnserverConfError';
    this.problems = problems;
  }
}

const TOKEN = /^[\x21-\x7e]+$/; // printable, no space, so nothing can smuggle in a second line
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

function validate(s: TurnserverSettings): string[] {
  const problems: string[] = [];
  const port = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 65535)) {
      problems.push(`${name} must be a port number 1-65535, got ${v}`);
    }
  };
  const count = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      problems.push(`${name} must be a whole number >= 0, got ${v}`);
    }
  };
  const path = (name: string, v: string | undefined): void => {
    if (v !== undefined && !(TOKEN.test(v) && (isAbsolute(v) || v === 'stdout'))) {
      problems.push(`${name} must be an absolute path without spaces, got "${v}"`);
    }
  };
  if (!HOST.test(s.realm)) problems.push(`realm must be a domain name, got "${s.realm}"`);
  if (s.serverName !== undefined && !HOST.test(s.serverName)) {
    problems.push(`serverName must be a domain name, got "${s.serverName}"`);
  }
  if (s.secrets.length === 0) problems.push('at least one secret is required');
  s.secrets.forEach((secret, i) => {
    if (secret.length < 16 || !TOKEN.test(secret) || secret.includes('#')) {
      problems.push(
        `secret ${i + 1} must be at least 16 printable characters without spaces or "#"`,
      );
    }
  });
  if (new Set(s.secrets).size !== s.secrets.length) problems.push('the secrets repeat');
  port('listeningPort', s.listeningPort);
  port('tlsListeningPort', s.tlsListeningPort);
  port('relayPorts.min', s.relayPorts?.min);
  port('relayPorts.max', s.relayPorts?.max);
  if (s.relayPorts !== undefined && s.relayPorts.min > s.relayPorts.max) {
    problems.push(`relayPorts.min ${s.relayPorts.min} is above relayPorts.max ${s.relayPorts.max}`);
  }
  if (s.tls !== undefined && (s.listeningPort ?? 3478) === (s.tlsListeningPort ?? 5349)) {
    problems.push('listeningPort and tlsListeningPort must differ');
  }
  count('userQuota', s.userQuota);
  count('totalQuota', s.totalQuota);
  count('maxBps', s.maxBps);
  count('staleNonceSeconds', s.staleNonceSeconds);
  if (s.externalIp !== undefined) {
    const parts = s.externalIp.split('/');
    if (parts.length > 2 || parts.some((p) => isIP(p) === 0)) {
      problems.push(`externalIp must be an IP or "public/private", got "${s.externalIp}"`);
    }
  }
  for (const [name, ips] of [
    ['listeningIps', s.listeningIps],
    ['relayIps', s.relayIps],
    ['allowedPeerIps', s.allowedPeerIps],
  ] as const) {
    for (const ip of ips ?? []) if (isIP(ip) === 0) problems.push(`${name}: "${ip}" is not an IP`);
  }
  path('tls.certFile', s.tls?.certFile);
  path('tls.keyFile', s.tls?.keyFile);
  path('logFile', s.logFile);
  path('pidFile', s.pidFile);
  path('userDb', s.userDb);
  path('testOnly.workDir', s.testOnly?.workDir);
  return problems;
}

/**
 * Renders a hardened `turnserver.conf` for TURN REST credentials: `use-auth-secret` with every
 * secret, TLS 1.2+ only, no CLI, FINGERPRINT, quotas, UDP relays only, and the full
 * `denied-peer-ip` list. The same text serves the docker bundle and the tests (with `testOnly`).
 *
 * @throws {@link TurnserverConfError} listing every invalid setting.
 */
export function renderTurnserverConf(settings: TurnserverSettings): string {
  const problems = validate(settings);
  if (problems.length > 0) throw new TurnserverConfError(problems);
  const t = settings.testOnly;
  const lines: string[] = [
    '# turnserver.conf rendered by rtc-sidecars; edit the settings, not this file.',
    '',
  ];
  const section = (title: string, ...body: (string | false | undefined)[]): void => {
    lines.push(`# ${title}`, ...body.filter((l): l is string => typeof l === 'string'), '');
  };
  const listening = t ? ['127.0.0.1'] : (settings.listeningIps ?? []);
  const relay = t ? ['127.0.0.1'] : (settings.relayIps ?? []);
  const relayPorts = settings.relayPorts ?? { min: 49152, max: 65535 };
  section(
    'Listeners',
    `listening-port=${settings.listeningPort ?? 3478}`,
    settings.tls && `tls-listening-port=${settings.tlsListeningPort ?? 5349}`,
    ...listening.map((ip) => `listening-ip=${ip}`),
    ...relay.map((ip) => `relay-ip=${ip}`),
    settings.externalIp !== undefined && `external-ip=${settings.externalIp}`,
    `min-port=${relayPorts.min}`,
    `max-port=${relayPorts.max}`,
    // RFC 5780 NAT discovery needs a second address and opens alternate ports; calls do not use it.
    'no-rfc5780',
  );
  section(
    'TLS',
    ...(settings.tls
      ? [`cert=${settings.tls.certFile}`, `pkey=${settings.tls.keyFile}`]
      : ['no-tls', 'no-dtls']),
    'no-tlsv1',
    'no-tlsv1_1',
  );
  section(
    'Authentication: TURN REST API (time-limited HMAC credentials)',
    'fingerprint',
    'use-auth-secret',
    ...settings.secrets.map((secret) => `static-auth-secret=${secret}`),
    `realm=${settings.realm}`,
    settings.serverName !== undefined && `server-name=${settings.serverName}`,
    `stale-nonce=${settings.staleNonceSeconds ?? 600}`,
  );
  section(
    'Abuse limits',
    `user-quota=${settings.userQuota ?? 12}`,
    `total-quota=${settings.totalQuota ?? 1200}`,
    settings.maxBps !== undefined && settings.maxBps > 0 && `max-bps=${settings.maxBps}`,
    'no-cli',
    'no-tcp-relay',
    'no-multicast-peers',
  );
  section(
    'Peers the relay must never reach',
    ...DENIED_PEER_IP_RANGES.map((d) => `denied-peer-ip=${d.range}`),
    ...(settings.allowedPeerIps ?? []).map((ip) => `allowed-peer-ip=${ip}`),
  );
  section(
    'Process',
    `log-file=${settings.logFile ?? (t ? join(t.workDir, 'turnserver.log') : 'stdout')}`,
    'simple-log',
    (t ?? settings.pidFile) &&
      `pidfile=${t ? join(t.workDir, 'turnserver.pid') : settings.pidFile}`,
    (t ?? settings.userDb) && `userdb=${t ? join(t.workDir, 'turndb') : settings.userDb}`,
    settings.verbose === true && 'verbose',
  );
  if (t?.allowLoopbackPeers) {
    section(
      'TEST ONLY: relay to 127.0.0.1 (allowed-peer-ip wins over the deny list for this one address)',
      'allow-loopback-peers',
      'allowed-peer-ip=127.0.0.1',
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
