import { join } from 'node:path';
import YAML from 'yaml';

/** Where a generated livekit.yaml runs on this machine. */
export interface LivekitLoopback {
  readonly kind: 'livekit.yaml';
  /** HTTP and signalling port. */
  readonly http: number;
  /** ICE-TCP port. */
  readonly tcp: number;
  /** Media UDP range (LiveKit uses one port per peer connection). */
  readonly udp: { readonly min: number; readonly max: number };
  /** coturn's listening port on 127.0.0.1, replacing every `rtc.turn_servers` port (UDP/TCP). */
  readonly turnPort?: number;
  /** Loopback URLs replacing `webhook.urls` (the generated ones name compose services). */
  readonly webhookUrls?: readonly string[];
  /** `127.0.0.1:<port>` replacing `redis.address` (scale mode). */
  readonly redisAddress?: string;
}

/** Where a generated turnserver.conf runs on this machine. */
export interface CoturnLoopback {
  readonly kind: 'turnserver.conf';
  readonly port: number;
  readonly relayPorts: { readonly min: number; readonly max: number };
  /** Private folder for log, pid and user database (the generated ones are in /tmp). */
  readonly workDir: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function livekitOnLoopback(text: string, at: LivekitLoopback): string {
  const config = YAML.parse(text) as Record<string, unknown>;
  const rtc = isRecord(config.rtc) ? config.rtc : {};
  config.port = at.http;
  config.bind_addresses = ['127.0.0.1'];
  Object.assign(rtc, {
    tcp_port: at.tcp,
    port_range_start: at.udp.min,
    port_range_end: at.udp.max,
    node_ip: '127.0.0.1',
    // The clients here reach LiveKit on loopback only: advertise that address and no other
    // interface, and ask no STUN server for a public one (there is no internet).
    enable_loopback_candidate: true,
    ips: { includes: ['127.0.0.1/32'] },
    stun_servers: [],
  });
  if (Array.isArray(rtc.turn_servers)) {
    for (const entry of rtc.turn_servers) {
      if (!isRecord(entry)) continue;
      entry.host = '127.0.0.1';
      if (at.turnPort !== undefined && entry.protocol !== 'tls') entry.port = at.turnPort;
    }
  }
  config.rtc = rtc;
  if (isRecord(config.webhook)) {
    if (at.webhookUrls === undefined) delete config.webhook;
    else config.webhook.urls = [...at.webhookUrls];
  }
  if (isRecord(config.redis) && at.redisAddress !== undefined) {
    config.redis.address = at.redisAddress;
  }
  return YAML.stringify(config);
}

function coturnOnLoopback(text: string, at: CoturnLoopback): string {
  const kept = text
    .split('\n')
    .filter(
      (line) =>
        !/^(listening-port|listening-ip|relay-ip|external-ip|min-port|max-port|log-file|pidfile|userdb)=/.test(
          line,
        ),
    );
  return `${[
    ...kept,
    '# Rewritten to run on loopback (test/harness/loopback.ts):',
    `listening-port=${at.port}`,
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `min-port=${at.relayPorts.min}`,
    `max-port=${at.relayPorts.max}`,
    `log-file=${join(at.workDir, 'turnserver.log')}`,
    `pidfile=${join(at.workDir, 'turnserver.pid')}`,
    `userdb=${join(at.workDir, 'turndb')}`,
    // LiveKit and the test peers live on 127.0.0.1, which the generated deny list refuses: this
    // one address is allowed (allowed-peer-ip wins over denied-peer-ip), every other range stays.
    'allow-loopback-peers',
    'allowed-peer-ip=127.0.0.1',
    // Logs each ALLOCATE with its username, which the tests read back.
    'verbose',
  ].join('\n')}\n`;
}

/**
 * The one place tests change a config file `rtc-sidecars init` generated, so that it runs on
 * this machine: addresses and ports go to 127.0.0.1 (and files to a private folder); every key,
 * secret, TURN entry and other setting stays as generated, so a template change that breaks
 * TURN or media breaks the tests too.
 *
 * - `livekit.yaml`: `port`, `bind_addresses`, `rtc.tcp_port`, `rtc.port_range_*`, `rtc.node_ip`,
 *   loopback candidates only (`enable_loopback_candidate`, `rtc.ips`, no STUN), each
 *   `rtc.turn_servers` host and UDP/TCP port, `webhook.urls` (dropped unless given),
 *   `redis.address`.
 * - `turnserver.conf`: listening and relay addresses and ports, no `external-ip`, log, pid and
 *   database files in `workDir`, `allow-loopback-peers` with `allowed-peer-ip=127.0.0.1` (the
 *   peers are on loopback), `verbose` (allocations are logged with their username).
 */
export function onLoopback(text: string, at: LivekitLoopback | CoturnLoopback): string {
  return at.kind === 'livekit.yaml' ? livekitOnLoopback(text, at) : coturnOnLoopback(text, at);
}
