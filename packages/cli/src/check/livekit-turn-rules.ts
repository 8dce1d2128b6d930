import { asText, livekitSetting } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

// Element Call takes its ICE servers from LiveKit's join response only, never from the
// homeserver's /voip/turnServer (that serves legacy 1:1 calls). So coturn reaches Element Call
// users only through livekit.yaml's `rtc.turn_servers`, and each entry must be one coturn
// accepts: its secret, an address it listens on, a port and protocol it serves.

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const FILE = 'livekit.yaml';

/** coturn's plain and TLS ports, and whether it can do TLS at all. */
function coturnListeners(d: Deployment): { plain: string; tls: string; tlsOn: boolean } {
  const conf = d.turnserver;
  const first = (key: string): string | undefined => conf?.get(key)?.[0];
  return {
    plain: first('listening-port') ?? '3478',
    tls: first('tls-listening-port') ?? '5349',
    tlsOn:
      conf?.get('no-tls') === undefined &&
      first('cert') !== undefined &&
      first('pkey') !== undefined,
  };
}

/** Host names and addresses that reach this coturn: realm, server name, its addresses, `.env`. */
function coturnHosts(d: Deployment): Set<string> {
  const conf = d.turnserver;
  const hosts = new Set<string>();
  const add = (v: string | undefined): void => {
    if (v !== undefined && v.trim() !== '') hosts.add(v.trim().toLowerCase());
  };
  for (const key of ['realm', 'server-name', 'listening-ip']) {
    for (const v of conf?.get(key) ?? []) add(v);
  }
  // external-ip is `public` or `public/private`.
  for (const v of conf?.get('external-ip') ?? []) add(v.split('/')[0]);
  add(d.env.TURN_HOST);
  add(d.env.EXTERNAL_IP);
  return hosts;
}

function entryFindings(d: Deployment, entry: unknown, key: string): Finding[] {
  if (!isRecord(entry)) {
    return [{ rule: 'livekit-turn', file: FILE, key, message: 'is not a TURN server entry' }];
  }
  const findings: Finding[] = [];
  const coturnSecrets = d.turnserver?.get('static-auth-secret') ?? [];
  const secret = entry.secret === undefined ? undefined : asText(entry.secret);
  if (secret === undefined || secret === '') {
    findings.push({
      rule: 'secret-mismatch',
      file: FILE,
      key: `${key}.secret`,
      message:
        'not set: coturn runs use-auth-secret, so LiveKit must sign credentials with its static-auth-secret (static username/credential entries are refused)',
    });
  } else if (d.turnserver !== undefined && !coturnSecrets.includes(secret)) {
    findings.push({
      rule: 'secret-mismatch',
      file: FILE,
      key: `${key}.secret`,
      message:
        'differs from turnserver.conf static-auth-secret: coturn refuses every credential LiveKit hands out, so relay-only clients cannot connect',
    });
  }
  const host = asText(entry.host).trim().toLowerCase();
  const hosts = coturnHosts(d);
  if (host === '') {
    findings.push({ rule: 'livekit-turn', file: FILE, key: `${key}.host`, message: 'not set' });
  } else if (d.turnserver !== undefined && !hosts.has(host)) {
    findings.push({
      rule: 'livekit-turn',
      file: FILE,
      key: `${key}.host`,
      message: `is ${host}, which is not coturn's realm, its addresses or TURN_HOST (${[...hosts].join(', ')})`,
    });
  }
  const protocol = asText(entry.protocol).toLowerCase();
  const port = asText(entry.port);
  const listeners = coturnListeners(d);
  if (!['udp', 'tcp', 'tls'].includes(protocol)) {
    findings.push({
      rule: 'livekit-turn',
      file: FILE,
      key: `${key}.protocol`,
      message: `is "${protocol}"; LiveKit knows udp, tcp and tls`,
    });
  } else if (protocol === 'tls' && !listeners.tlsOn) {
    findings.push({
      rule: 'livekit-turn',
      file: FILE,
      key: `${key}.protocol`,
      message:
        'is tls, but turnserver.conf has no certificate (cert/pkey) or says no-tls: clients would try a turns: URI that cannot complete a handshake',
    });
  } else if (d.turnserver !== undefined) {
    const wanted = protocol === 'tls' ? listeners.tls : listeners.plain;
    if (port !== wanted) {
      findings.push({
        rule: 'livekit-turn',
        file: FILE,
        key: `${key}.port`,
        message: `is ${port || 'not set'}, but coturn serves ${protocol} on ${wanted}`,
      });
    }
  }
  return findings;
}

/**
 * `rtc.turn_servers` must exist, and every entry must reach this coturn: the same secret as
 * its `static-auth-secret`, a host that is its realm or one of its addresses, and a port and
 * protocol it serves (TLS only when it has a certificate).
 */
export function livekitTurnRule(d: Deployment): Finding[] {
  if (d.livekit === undefined) return [];
  const servers = livekitSetting(d, 'rtc.turn_servers');
  if (!Array.isArray(servers) || servers.length === 0) {
    return [
      {
        rule: 'livekit-turn-missing',
        file: FILE,
        key: 'rtc.turn_servers',
        message:
          "no TURN servers: Element Call takes its ICE servers from LiveKit's join response only, so users behind UDP-blocking firewalls or symmetric NAT get no relay; add coturn (host, port, protocol, secret, ttl)",
      },
    ];
  }
  return servers.flatMap((entry, i) => entryFindings(d, entry, `rtc.turn_servers[${i}]`));
}
