import { asText, livekitSetting } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

/** A host port range one service claims. */
interface PortClaim {
  readonly owner: string;
  readonly proto: 'tcp' | 'udp';
  readonly from: number;
  readonly to: number;
  readonly file: string;
  readonly key: string;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined;
};

function range(text: string): [number, number] | undefined {
  const [a, b] = text.split('-');
  const from = num(a);
  const to = b === undefined ? from : num(b);
  return from === undefined || to === undefined ? undefined : [from, to];
}

/** Host ports published by compose (`[ip:]host:container[/proto]`), by service. */
function composeClaims(d: Deployment): PortClaim[] {
  const claims: PortClaim[] = [];
  for (const [name, service] of Object.entries(d.services ?? {})) {
    service.ports.forEach((spec, i) => {
      const [mapping = '', proto = 'tcp'] = spec.split('/');
      const parts = mapping.split(':');
      if (parts.length < 2) return; // container port only: Docker picks a free host port
      const host = range(parts.at(-2) ?? '');
      if (host === undefined || (proto !== 'tcp' && proto !== 'udp')) return;
      claims.push({
        owner: name,
        proto,
        from: host[0],
        to: host[1],
        file: 'compose.yaml',
        key: `services.${name}.ports[${i}]`,
      });
    });
  }
  return claims;
}

/** Ports coturn binds on the host (it runs with host networking). */
function coturnClaims(d: Deployment): PortClaim[] {
  const conf = d.turnserver;
  if (conf === undefined) return [];
  const service = Object.entries(d.services ?? {}).find(([n]) => /coturn|turn/i.test(n));
  if (service !== undefined && service[1].networkMode !== 'host') return []; // published ports count instead
  const owner = service?.[0] ?? 'coturn';
  const get = (k: string): string | undefined => conf.get(k)?.[0];
  const claims: PortClaim[] = [];
  const add = (proto: 'tcp' | 'udp', from: number, to: number, key: string): void => {
    claims.push({ owner, proto, from, to, file: 'turnserver.conf', key });
  };
  const listening = num(get('listening-port') ?? '3478') ?? 3478;
  add('udp', listening, listening, 'listening-port');
  add('tcp', listening, listening, 'listening-port');
  if (conf.get('no-tls') === undefined) {
    const tls = num(get('tls-listening-port') ?? '5349') ?? 5349;
    add('tcp', tls, tls, 'tls-listening-port');
  }
  const min = num(get('min-port') ?? '49152') ?? 49152;
  const max = num(get('max-port') ?? '65535') ?? 65535;
  add('udp', min, max, 'min-port/max-port');
  return claims;
}

/** LiveKit's media ports, which compose must publish one-to-one. */
function livekitClaims(d: Deployment): PortClaim[] {
  if (d.livekit === undefined) return [];
  const claims: PortClaim[] = [];
  const add = (
    proto: 'tcp' | 'udp',
    from: number | undefined,
    to: number | undefined,
    key: string,
  ): void => {
    if (from !== undefined && to !== undefined) {
      claims.push({ owner: 'livekit', proto, from, to, file: 'livekit.yaml', key });
    }
  };
  const tcp = num(livekitSetting(d, 'rtc.tcp_port'));
  add('tcp', tcp, tcp, 'rtc.tcp_port');
  const udp = livekitSetting(d, 'rtc.udp_port');
  if (udp !== undefined) {
    const r = range(asText(udp));
    add('udp', r?.[0], r?.[1], 'rtc.udp_port');
  } else {
    add(
      'udp',
      num(livekitSetting(d, 'rtc.port_range_start')),
      num(livekitSetting(d, 'rtc.port_range_end')),
      'rtc.port_range_start/port_range_end',
    );
  }
  return claims;
}

const overlaps = (a: PortClaim, b: PortClaim): boolean =>
  a.proto === b.proto && a.from <= b.to && b.from <= a.to;
const show = (c: PortClaim): string =>
  `${c.from === c.to ? c.from : `${c.from}-${c.to}`}/${c.proto}`;

/**
 * Two services on one host port collide (`port-collision`): one of them fails to start or, worse
 * for UDP ranges, steals the other's media. LiveKit's media ports must also be published as
 * configured (`port-not-published`).
 */
export function portRule(d: Deployment): Finding[] {
  const findings: Finding[] = [];
  const published = composeClaims(d);
  const lk = livekitClaims(d);
  const livekitService = Object.keys(d.services ?? {}).find(
    (n) => /livekit/i.test(n) && !/jwt/i.test(n),
  );
  const hostMode =
    livekitService !== undefined && d.services?.[livekitService]?.networkMode === 'host';
  if (livekitService !== undefined && !hostMode) {
    for (const claim of lk) {
      const covered = published.some(
        (p) =>
          p.owner === livekitService &&
          p.proto === claim.proto &&
          p.from <= claim.from &&
          claim.to <= p.to,
      );
      if (!covered) {
        findings.push({
          rule: 'port-not-published',
          file: claim.file,
          key: claim.key,
          message: `${show(claim)} is not published by compose.yaml services.${livekitService}.ports: media cannot reach LiveKit (re-run \`rtc-sidecars init\` to render both from .env)`,
        });
      }
    }
  }
  const claims = [
    ...published,
    ...coturnClaims(d),
    ...lk.map((c) => ({ ...c, owner: livekitService ?? c.owner })),
  ];
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i];
      const b = claims[j];
      if (a === undefined || b === undefined || a.owner === b.owner || !overlaps(a, b)) continue;
      findings.push({
        rule: 'port-collision',
        file: b.file,
        key: b.key,
        message: `${b.owner} ${show(b)} collides with ${a.owner} ${show(a)} (${a.file} ${a.key})`,
      });
    }
  }
  return findings;
}
