import ipaddr from 'ipaddr.js';

import { DENIED_PEER_IP_RANGES } from '@rtc-sidecars/turn';

import { livekitSetting } from './deployment-views.ts';
import { type Finding } from './finding.ts';
import { type Deployment } from './load-deployment.ts';

/**
 * LiveKit must advertise the public address by exactly one means: `use_external_ip` (STUN
 * discovery) or `node_ip` / `--node-ip`. With both, node_ip is silently ignored (livekit#4049);
 * with neither, a container advertises its 172.x bridge address and media never arrives.
 */
export function nodeIpRule(d: Deployment): Finding[] {
  if (d.livekit === undefined) return [];
  const external = livekitSetting(d, 'rtc.use_external_ip') === true;
  const nodeIp = livekitSetting(d, 'rtc.node_ip');
  const hasNodeIp =
    typeof nodeIp === 'string' ? nodeIp.trim() !== '' : nodeIp !== undefined && nodeIp !== null;
  const service = Object.entries(d.services ?? {}).find(
    ([n]) => /livekit/i.test(n) && !/jwt/i.test(n),
  );
  const flag =
    service?.[1].command.some((a) => a === '--node-ip' || a.startsWith('--node-ip=')) ?? false;
  if (external && (hasNodeIp || flag)) {
    return [
      {
        rule: 'node-ip',
        file: 'livekit.yaml',
        key: 'rtc.use_external_ip',
        message: `is true while ${hasNodeIp ? 'rtc.node_ip' : `--node-ip (compose.yaml services.${service?.[0] ?? ''}.command)`} is set; LiveKit ignores node_ip then: keep one`,
      },
    ];
  }
  const hostMode = service?.[1].networkMode === 'host';
  if (!external && !hasNodeIp && !flag && !hostMode) {
    return [
      {
        rule: 'node-ip',
        file: 'livekit.yaml',
        key: 'rtc.node_ip',
        message:
          'neither rtc.node_ip nor rtc.use_external_ip is set: LiveKit would advertise its container address',
      },
    ];
  }
  return [];
}

type Span = readonly [family: 4 | 6, from: bigint, to: bigint];

function toBig(text: string): [4 | 6, bigint] | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const addr = ipaddr.parse(text);
  const bytes = addr.toByteArray();
  return [addr.kind() === 'ipv4' ? 4 : 6, bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n)];
}

function span(text: string): Span | undefined {
  const dash = text.indexOf('-');
  const a = toBig((dash === -1 ? text : text.slice(0, dash)).trim());
  const b = dash === -1 ? a : toBig(text.slice(dash + 1).trim());
  if (a === undefined || b === undefined || a[0] !== b[0]) return undefined;
  return [a[0], a[1], b[1]];
}

/**
 * Every range of the hardened deny list must be covered by the turnserver.conf's
 * `denied-peer-ip` lines: otherwise a TURN user can relay into the LAN, the Docker network or
 * cloud metadata (CVE-2020-26262 and friends).
 */
export function deniedPeerRule(d: Deployment): Finding[] {
  if (d.turnserver === undefined) return [];
  const present = (d.turnserver.get('denied-peer-ip') ?? [])
    .map(span)
    .filter((s) => s !== undefined);
  const findings: Finding[] = [];
  for (const wanted of DENIED_PEER_IP_RANGES) {
    const w = span(wanted.range);
    if (w === undefined) continue;
    const covered = present.some((p) => p[0] === w[0] && p[1] <= w[1] && w[2] <= p[2]);
    if (!covered) {
      findings.push({
        rule: 'denied-peer-ip',
        file: 'turnserver.conf',
        key: 'denied-peer-ip',
        message: `missing ${wanted.range} (${wanted.why})`,
      });
    }
  }
  return findings;
}

/**
 * LiveKit's `node_ip` and coturn's `external-ip` must be the `EXTERNAL_IP` of `.env`: a stale
 * address after a move gives calls that connect and carry no media.
 */
export function externalIpRule(d: Deployment): Finding[] {
  const expected = d.env.EXTERNAL_IP;
  if (expected === undefined || expected === '') return [];
  const findings: Finding[] = [];
  const nodeIp = livekitSetting(d, 'rtc.node_ip');
  if (typeof nodeIp === 'string' && nodeIp !== '' && nodeIp !== expected) {
    findings.push({
      rule: 'external-ip-mismatch',
      file: 'livekit.yaml',
      key: 'rtc.node_ip',
      message: `is ${nodeIp}, but EXTERNAL_IP in .env is ${expected}`,
    });
  }
  const coturn = d.turnserver?.get('external-ip')?.[0];
  const publicPart = coturn?.split('/')[0];
  if (publicPart !== undefined && publicPart !== expected) {
    findings.push({
      rule: 'external-ip-mismatch',
      file: 'turnserver.conf',
      key: 'external-ip',
      message: `is ${publicPart}, but EXTERNAL_IP in .env is ${expected}`,
    });
  }
  return findings;
}
